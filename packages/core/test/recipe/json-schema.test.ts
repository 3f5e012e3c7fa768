/**
 * The generated recipe JSON Schema, checked with an independent JSON Schema
 * 2020-12 validator (ajv): it accepts valid recipes and rejects the mistakes
 * an editor should flag while typing.
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { Ajv2020 } from "ajv/dist/2020.js"
import { beforeAll, describe, expect, it } from "vitest"
import { parse } from "yaml"
import { loadPluginList, recipeJsonSchema, type JsonSchemaObject } from "@refine-af/core"
import { fixturesDir } from "./support.ts"

let schema: JsonSchemaObject
let validate: (data: unknown) => boolean

const fullRecipe = () => parse(readFileSync(path.join(fixturesDir, "valid/full.yaml"), "utf8")) as Record<string, any>

beforeAll(async () => {
  const { plugins } = await Effect.runPromise(loadPluginList(["./plugins/text"], { searchFrom: [fixturesDir] }))
  schema = recipeJsonSchema(plugins)
  validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema)
})

describe("recipeJsonSchema", () => {
  it("is a draft 2020-12 schema that lists every component id", () => {
    expect(schema["$schema"]).toBe("https://json-schema.org/draft/2020-12/schema")
    const defs = schema["$defs"] as Record<string, { properties: { _component_: { enum: Array<string> } } }>
    expect(defs["stage"]!.properties._component_.enum).toEqual(["text/lines", "text/uppercase", "text/join", "text/generate"])
    expect(defs["resource"]!.properties._component_.enum).toEqual(["text/tiny-lm", "text/judge", "text/composite"])
  })

  it("carries option docs for editor hovers", () => {
    const defs = schema["$defs"] as Record<string, { properties: Record<string, { description?: string }> }>
    expect(defs["component.text.lines"]!.properties["lines"]!.description).toBe("the lines to emit")
    expect(defs["component.text.generate"]!.properties["max_instructions"]!.description).toBe("how many instructions to keep")
  })

  it("accepts the valid fixture recipes", () => {
    expect(validate(fullRecipe())).toBe(true)
    expect(validate(parse(readFileSync(path.join(fixturesDir, "valid/unnamed.yaml"), "utf8")))).toBe(true)
  })

  it.each<[string, (recipe: Record<string, any>) => void]>([
    ["an unknown component", (recipe) => (recipe.stages.seeds._component_ = "text/line")],
    ["a missing required option", (recipe) => delete recipe.stages.merged.separator],
    ["a wrong option type", (recipe) => (recipe.stages.gen.max_instructions = "ten")],
    ["an unknown key in a node", (recipe) => (recipe.stages.upper.recordz = "seeds")],
    ["an unconnected required port", (recipe) => delete recipe.stages.upper.records],
    ["an unconnected slot", (recipe) => delete recipe.resources.judge.model],
    ["an unknown top-level key", (recipe) => (recipe.stage = {})],
    ["a literal outside its set", (recipe) => (recipe.stages.gen.mode = "sideways")],
    ["null for an optional option (the decoder rejects it too)", (recipe) => (recipe.stages.gen.mode = null)],
    ["a value failing a Schema check (negative temperature)", (recipe) => (recipe.stages.gen.sampling.temperature = -1)],
    ["a non-finite number written as a string", (recipe) => (recipe.stages.gen.sampling.temperature = "Infinity")],
    ["a stage component under resources", (recipe) => (recipe.resources.extra = { _component_: "text/lines", lines: [] })]
  ])("rejects %s", (_, breakIt) => {
    const recipe = fullRecipe()
    breakIt(recipe)
    expect(validate(recipe)).toBe(false)
  })
})
