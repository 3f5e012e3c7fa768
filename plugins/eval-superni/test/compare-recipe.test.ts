/**
 * `superni/compare` in a recipe under the core runner: the `candidates` list
 * port takes three evaluate stages (compared in the listed order), and the
 * former `candidate` / `candidate2..4` keys are refused by validate with a
 * pointer to `candidates`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadRecipe, runRecipe, type RecipeInvalid } from "@refine-af/core"

const fixturePlugin = path.resolve(__dirname, "fixtures/flaky-lm")

const recipeText = (dir: string, compare: string) => `name: compare-three
seed: 5
plugins:
  - "@refine-af/eval-superni"
  - ${fixturePlugin}
resources:
  policy:
    _component_: flaky/model
    failOnCall: 1000
    crashMarker: ${path.join(dir, "crashed")}
    requestLog: ${path.join(dir, "requests.log")}
stages:
  eval_base: { _component_: superni/evaluate, model: policy, maxInstances: 2, batchSize: 8 }
  eval_a: { _component_: superni/evaluate, model: policy, maxInstances: 2, batchSize: 8, maxNewTokens: 8 }
  eval_b: { _component_: superni/evaluate, model: policy, maxInstances: 2, batchSize: 8, maxNewTokens: 16 }
  eval_c: { _component_: superni/evaluate, model: policy, maxInstances: 2, batchSize: 8, maxNewTokens: 24 }
  compare:
    _component_: superni/compare
    baseline: eval_base
${compare}
    resamples: 50
`

const write = (compare: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), "superni-compare-"))
  const file = path.join(dir, "recipe.yaml")
  writeFileSync(file, recipeText(dir, compare))
  return { dir, file }
}

describe("superni/compare in a recipe", () => {
  it("compares the three stages of its candidates list with the baseline, in the listed order", async () => {
    const { dir, file } = write("    candidates: [eval_c, eval_a, eval_b]")
    const recipe = await Effect.runPromise(loadRecipe(file, { cwd: process.cwd() }))
    const { runDir, manifest } = await Effect.runPromise(runRecipe(recipe, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache"), runId: "r" }))
    expect(manifest.stages["compare"]!.status).toBe("completed")
    expect(manifest.stages["compare"]!.inputs).toEqual({ baseline: "eval_base", candidates: ["eval_c", "eval_a", "eval_b"] })
    const saved = JSON.parse(readFileSync(path.join(runDir, "stages/compare/comparison.json"), "utf8"))
    expect(saved.comparisons.map((comparison: { candidate: string; baseline: string }) => `${comparison.candidate} vs ${comparison.baseline}`)).toEqual([
      "eval_c vs eval_base",
      "eval_a vs eval_base",
      "eval_b vs eval_base"
    ])
    expect(Object.keys(manifest.stages["compare"]!.metrics ?? {})).toEqual(expect.arrayContaining(["eval_a.tasksImproved", "eval_b.tasksImproved", "eval_c.tasksImproved"]))
  }, 120_000)

  it("imports another run's finished evaluation with superni/predictions, and refuses a folder that is not one", async () => {
    const { dir, file } = write("    candidates: [eval_a]")
    const recipe = await Effect.runPromise(loadRecipe(file, { cwd: process.cwd() }))
    const { runDir } = await Effect.runPromise(runRecipe(recipe, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache"), runId: "r" }))
    const importText = (stageDir: string) => `name: import
plugins: ["@refine-af/eval-superni"]
stages:
  earlier: { _component_: superni/predictions, stageDir: ${stageDir} }
  compare: { _component_: superni/compare, baseline: earlier, candidates: [earlier_again], resamples: 20 }
  earlier_again: { _component_: superni/predictions, stageDir: ${path.join(runDir, "stages/eval_b")} }
`
    writeFileSync(file, importText(path.join(runDir, "stages/eval_a")))
    const imported = await Effect.runPromise(loadRecipe(file, { cwd: process.cwd() }))
    const result = await Effect.runPromise(runRecipe(imported, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache"), runId: "i" }))
    expect(readFileSync(path.join(result.runDir, "stages/earlier/records.jsonl"), "utf8")).toBe(readFileSync(path.join(runDir, "stages/eval_a/records.jsonl"), "utf8"))
    expect(result.manifest.stages["compare"]!.status).toBe("completed")
    writeFileSync(file, importText(dir))
    const error = await Effect.runPromise(Effect.flip(loadRecipe(file, { cwd: process.cwd() }))) as RecipeInvalid
    expect(error.problems.map((problem) => problem.message)).toEqual([expect.stringContaining(`${dir} holds no records.jsonl`)])
  }, 120_000)

  it("refuses the former candidate / candidate2 keys at validate time and suggests candidates", async () => {
    const { file } = write("    candidate: eval_a\n    candidate2: eval_b")
    const error = await Effect.runPromise(Effect.flip(loadRecipe(file, { cwd: process.cwd() }))) as RecipeInvalid
    const lines = error.problems.map((problem) => `${problem.line}:${problem.column} ${problem.message}`)
    expect(lines).toEqual([
      "17:3 stage \"compare\" (superni/compare): required input port \"candidates\" is not connected",
      "20:5 stage \"compare\" (superni/compare): unknown key \"candidate\"; did you mean \"candidates\"?",
      "21:5 stage \"compare\" (superni/compare): unknown key \"candidate2\"; did you mean \"candidates\"?"
    ])
    expect(error.problems.find((problem) => problem.message.includes("not connected"))?.fix).toContain("candidates: [<stage name>, ...]")
  })
})
