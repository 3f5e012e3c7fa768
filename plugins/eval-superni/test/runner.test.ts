/**
 * The evaluate stage under the real core runner: a model crash mid-evaluation
 * fails the run, `resumeRun` continues after the last committed record, and the
 * final records and metrics equal an uninterrupted run's.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { loadRecipe, resumeRun, runRecipe } from "@refine-af/core"

const fixturePlugin = path.resolve(__dirname, "fixtures/flaky-lm")

const recipeText = (dir: string, failOnCall: number) => `# evaluate with a model that crashes once
name: flaky-eval
seed: 5
plugins:
  - "@refine-af/eval-superni"
  - ${fixturePlugin}
resources:
  policy:
    _component_: flaky/model
    failOnCall: ${failOnCall}
    crashMarker: ${path.join(dir, "crashed")}
    requestLog: ${path.join(dir, "requests.log")}
stages:
  eval:
    _component_: superni/evaluate
    model: policy
    maxInstances: 5
    batchSize: 4
`

const setup = async (failOnCall: number) => {
  const dir = mkdtempSync(path.join(tmpdir(), "superni-runner-"))
  const file = path.join(dir, "recipe.yaml")
  writeFileSync(file, recipeText(dir, failOnCall))
  const recipe = await Effect.runPromise(loadRecipe(file, { cwd: process.cwd() }))
  const options = { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache"), cache: false, checkpoint: { everyRecords: 1 } }
  return { dir, recipe, options }
}

const requests = (dir: string) => (existsSync(path.join(dir, "requests.log")) ? readFileSync(path.join(dir, "requests.log"), "utf8").split("\n").length - 1 : 0)

describe("superni/evaluate under the core runner", () => {
  it("resumes after a model crash and ends with the records of an uninterrupted run", async () => {
    const clean = await setup(1_000)
    const reference = await Effect.runPromise(runRecipe(clean.recipe, { ...clean.options, runId: "clean" }))
    const referenceRecords = readFileSync(path.join(reference.runDir, "stages/eval/records.jsonl"), "utf8")
    expect(referenceRecords.split("\n").filter(Boolean)).toHaveLength(40)

    // The 4th generate call crashes: 3 batches of 4 = 12 records are committed first.
    const flaky = await setup(4)
    const first = await Effect.runPromise(Effect.exit(runRecipe(flaky.recipe, { ...flaky.options, runId: "flaky" })))
    expect(Exit.isFailure(first)).toBe(true)
    expect(String(first)).toContain("simulated server crash")
    expect(requests(flaky.dir)).toBe(12)

    const runDir = path.join(flaky.options.runsDir, "flaky")
    const resumed = await Effect.runPromise(resumeRun(runDir, flaky.recipe, { cacheDir: flaky.options.cacheDir, cache: false }))
    expect(resumed.manifest.status).toBe("completed")
    expect(requests(flaky.dir)).toBe(40) // only the 28 missing instances were generated again
    expect(readFileSync(path.join(runDir, "stages/eval/records.jsonl"), "utf8")).toBe(referenceRecords)
    expect(resumed.manifest.stages["eval"]?.metrics).toEqual(reference.manifest.stages["eval"]?.metrics)
    for (const file of ["report.md", "report.html", "metrics.json"]) expect(existsSync(path.join(runDir, "stages/eval", file))).toBe(true)
  }, 120_000)
})
