/** Optional resource slots (`optionalSlot(key)`): may be left out, are still checked when given. */
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { defineStage, describeComponent, LanguageModel, manifestProblems, optionalSlot, recipeJsonSchema } from "@refine-af/core"
import { loadInvalid, loadValid } from "./support.ts"

const recipe = "valid/optional-slot.yaml"

describe("optional resource slots", () => {
  it("may be left unconnected", async () => {
    const resolved = await loadValid(recipe)
    expect(resolved.stages["critique"]!.uses).toEqual({})
  })

  it("connect like any slot when given", async () => {
    const resolved = await loadValid(recipe, { overrides: ["stages.critique.judge=lm"] })
    expect(resolved.stages["critique"]!.uses).toEqual({ judge: "lm" })
  })

  it("are still checked when given: unknown resource, wrong service", async () => {
    const error = await loadInvalid(recipe, { overrides: ["stages.critique.judge=lmm"] })
    expect(error.problems.map((problem) => problem.message)).toEqual([expect.stringContaining("slot \"judge\" names resource \"lmm\", which does not exist; did you mean \"lm\"?")])
    const wrong = await loadInvalid(recipe, { overrides: ["stages.critique.judge=score"] })
    expect(wrong.problems.map((problem) => problem.message)).toEqual([expect.stringMatching(/slot "judge" needs a .*LanguageModel but resource "score" \(opt\/score\) provides .*Scorer/)])
  })

  it("are described as optional and not required by the recipe JSON Schema", async () => {
    const resolved = await loadValid(recipe)
    const entry = { id: "opt/critique", plugin: resolved.plugins[0]!, component: resolved.stages["critique"]!.component }
    expect(describeComponent(entry).slots).toEqual([{ name: "judge", service: LanguageModel.key, optional: true }])
    const schema = JSON.stringify(recipeJsonSchema(resolved.plugins))
    expect(schema).toContain("Resource slot (optional): name of a resource providing")
  })

  it("pass the manifest check, while a malformed marker does not", () => {
    const stage = defineStage({ role: "transform", description: "d", options: Schema.Struct({}), uses: { judge: optionalSlot(LanguageModel) }, run: () => Effect.void })
    expect(manifestProblems({ name: "demo", version: "1", components: { stage } })).toEqual([])
    const broken = { ...stage, uses: { judge: { _tag: "OptionalSlot", service: "LanguageModel" } } }
    expect(manifestProblems({ name: "demo", version: "1", components: { broken } })).toEqual([expect.stringContaining("\"uses\" must map slot names to service keys")])
  })
})
