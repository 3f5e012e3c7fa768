/** Typed input ports: checked against the producer's output Schema by validate, and per record at run time. */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { loadRecipe, runRecipe, type RecipeInvalid } from "../../src/index.ts"
import { fixturesDir } from "../recipe/support.ts"
import { tempDir } from "./fixtures.ts"

const recipeText = (consumer: string, from: string) => `name: typed
plugins: [${path.join(fixturesDir, "plugins/multi")}]
resources:
  base:
    _component_: multi/both
    log: makes.log
stages:
  speak:
    _component_: multi/speak
    speaker: base
    words: [a, b]
  train:
    _component_: multi/train
    note: v1
  read:
    _component_: multi/${consumer}
    records: ${from}
`

const load = (consumer: string, from: string) => {
  const dir = tempDir("typed")
  fs.writeFileSync(path.join(dir, "recipe.yaml"), recipeText(consumer, from))
  return { dir, loaded: loadRecipe(path.join(dir, "recipe.yaml")) }
}

describe("typed input ports", () => {
  it("accept a producer whose declared output has every required field with the right type", async () => {
    const { dir, loaded } = load("needs-said", "speak")
    const recipe = await Effect.runPromise(loaded)
    const { manifest } = await Effect.runPromise(runRecipe(recipe, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache") }))
    expect(manifest.stages["read"]!.status).toBe("completed")
  })

  it("are checked by validate against the producer's output Schema, at the port's line:column", async () => {
    const { loaded } = load("needs-score", "speak")
    const error = await Effect.runPromise(Effect.flip(loaded)) as RecipeInvalid
    expect(error.problems.map((problem) => `${problem.line}:${problem.column} ${problem.message}`)).toEqual([
      "17:14 stage \"read\" (multi/needs-score): input port \"records\" needs field \"said\" as number, but stage \"speak\" writes it as string",
      "17:14 stage \"read\" (multi/needs-score): input port \"records\" needs records with field \"score\" (number), but stage \"speak\" does not write it"
    ])
  })

  it("check each record at run time when the producer declares no Schema, naming stage, port, record and field", async () => {
    const { dir, loaded } = load("needs-said", "train")
    const recipe = await Effect.runPromise(loaded)
    const exit = await Effect.runPromiseExit(runRecipe(recipe, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache"), runId: "r" }))
    expect(exit._tag).toBe("Failure")
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "runs/r/manifest.json"), "utf8"))
    expect(manifest.stages.read.status).toBe("failed")
    expect(manifest.stages.read.error).toMatch(/^stage "read": input port "records": record 0 of stage "train" does not match the port's Schema: .*said/)
  })
})
