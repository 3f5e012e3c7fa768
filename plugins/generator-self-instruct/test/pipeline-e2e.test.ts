/**
 * The three stages through the real core runner: recipe loading and
 * validation, the on-disk record streams, and resume of a failed run.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Effect, Exit } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { loadRecipe, resumeRun, runRecipe, stageDirOf } from "@refine-af/core"

const fixturePlugin = resolve(import.meta.dirname, "fixtures/scripted-lm.plugin.ts")
// This package by its folder: the temp recipe folder has no node_modules to resolve the name from.
const thisPlugin = resolve(import.meta.dirname, "..")

const recipeText = `# self-instruct end-to-end test recipe
name: self-instruct-e2e
seed: 3
plugins:
  - "${thisPlugin}"
  - "${fixturePlugin}"
resources:
  policy:
    _component_: scripted-lm/model
stages:
  instructions:
    _component_: self-instruct/bootstrap
    model: policy
    target: 24
    batchSize: 2
  classified:
    _component_: self-instruct/classify
    instructions: instructions
    model: policy
    batchSize: 5
  dataset:
    _component_: self-instruct/instances
    instructions: classified
    model: policy
    batchSize: 3
    maxInstances: 2
`

const records = (runDir: string, stage: string) =>
  readFileSync(join(stageDirOf(runDir, stage), "records.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>)

const run = async (failAfter?: number) => {
  const dir = mkdtempSync(join(tmpdir(), "si-e2e-"))
  const file = join(dir, "recipe.yaml")
  writeFileSync(file, recipeText)
  if (failAfter === undefined) delete process.env["SCRIPTED_LM_FAIL_AFTER"]
  else process.env["SCRIPTED_LM_FAIL_AFTER"] = String(failAfter)
  const recipe = await Effect.runPromise(loadRecipe(file, { cwd: dir }))
  const exit = await Effect.runPromiseExit(runRecipe(recipe, { runsDir: join(dir, "runs"), runId: "run", cache: false }))
  return { recipe, exit, runDir: join(dir, "runs", "run") }
}

afterEach(() => {
  delete process.env["SCRIPTED_LM_FAIL_AFTER"]
})

describe("self-instruct stages under the core runner", () => {
  it("runs bootstrap → classify → instances and writes Alpaca rows", async () => {
    const { exit, runDir } = await run()
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(records(runDir, "instructions")).toHaveLength(24)
    const classified = records(runDir, "classified")
    expect(classified).toHaveLength(24)
    expect(classified.every((record) => typeof record["is_classification"] === "boolean")).toBe(true)
    const dataset = records(runDir, "dataset")
    expect(dataset.length).toBeGreaterThan(24)
    for (const row of dataset) {
      expect(typeof row["instruction"]).toBe("string")
      expect(typeof row["input"]).toBe("string")
      expect(typeof row["output"]).toBe("string")
    }
    const events = readFileSync(join(runDir, "events.jsonl"), "utf8")
    expect(events).toContain("filter_counts")
  })

  it.each([1, 3, 10, 15])("resumes a run whose model failed after %i calls to the uninterrupted output", async (failAfter) => {
    const full = await run()
    const failed = await run(failAfter)
    expect(Exit.isFailure(failed.exit)).toBe(true)
    delete process.env["SCRIPTED_LM_FAIL_AFTER"]
    const resumed = await Effect.runPromiseExit(resumeRun(failed.runDir, failed.recipe, { cache: false }))
    expect(Exit.isSuccess(resumed)).toBe(true)
    for (const stage of ["instructions", "classified", "dataset"]) {
      expect(records(failed.runDir, stage), stage).toEqual(records(full.runDir, stage))
    }
  })
})
