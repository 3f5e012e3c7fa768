import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { NodeServices } from "@effect/platform-node"
import { Command } from "effect/cli"
import { loadRecipe, resumeRunDir, runRecipe } from "@refine-af/core"
import { compareCommand, compareRunDirs } from "../src/commands/compare.ts"

const fixturePlugin = path.resolve(__dirname, "fixtures/scripted-lm")
const tallyPlugin = path.resolve(__dirname, "fixtures/tally")

/** A recipe evaluating a scripted model on 4 instances of each bundled SuperNI-format task. */
const recipe = (name: string, model: string, extraStage = "") => `# test recipe
name: ${name}
seed: 3
plugins:
  - "@refine-af/eval-superni"
  - ${fixturePlugin}
resources:
  policy:
    _component_: scripted/model
${model}
stages:
  eval:
    _component_: superni/evaluate
    model: policy
    maxInstances: 4
${extraStage}`

const runOnce = async (dir: string, name: string, model: string, extraStage = "") => {
  const file = path.join(dir, `${name}.yaml`)
  writeFileSync(file, recipe(name, model, extraStage))
  const resolved = await Effect.runPromise(loadRecipe(file, { cwd: process.cwd() }))
  const result = await Effect.runPromise(
    runRecipe(resolved, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache"), cache: false })
  )
  return result.runDir
}

describe("refine-af compare", () => {
  it("compares finished runs through the engine: a run under runs/ naming the runs and models, cached and resumable", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cli-compare-"))
    const yes = await runOnce(dir, "yes", "    mode: constant\n    text: \"Yes\"")
    const echo = await runOnce(dir, "echo", "    mode: echo")
    const runsDir = path.join(dir, "comparisons")
    const cacheDir = path.join(dir, "cache")
    const result = await Effect.runPromise(compareRunDirs({ baselineRun: yes, candidateRuns: [echo], runsDir, cacheDir, options: { resamples: 200 } }))
    const yesId = path.basename(yes)
    const echoId = path.basename(echo)
    expect(path.dirname(result.runDir)).toBe(runsDir)
    expect(path.basename(result.runDir)).toMatch(new RegExp(`^compare-${yesId}-vs-${echoId}-`))
    expect(result.manifest.status).toBe("completed")
    expect(Object.keys(result.manifest.stages)).toEqual([yesId, echoId, "compare"])
    expect(result.manifest.stages["compare"]!.inputs).toEqual({ baseline: yesId, candidates: [echoId] })
    expect(result.compared.map((run) => `${run.runId}:${run.stage}:${run.model}`)).toEqual([
      `${yesId}:eval:policy (scripted/model)`,
      `${echoId}:eval:policy (scripted/model)`
    ])
    // (the YAML writer folds the long description over lines)
    const recipeText = readFileSync(path.join(result.runDir, "recipe.yaml"), "utf8").replace(/\s+/g, " ")
    expect(recipeText).toContain(`${yesId} (model: policy (scripted/model)) vs ${echoId} (model: policy (scripted/model))`)
    const stageDir = path.join(result.runDir, "stages", "compare")
    for (const file of ["report.md", "report.html", "comparison.json", "records.jsonl"]) expect(existsSync(path.join(stageDir, file))).toBe(true)
    const comparison = JSON.parse(readFileSync(path.join(stageDir, "comparison.json"), "utf8")).comparisons[0]
    expect(comparison.baseline).toBe(yesId)
    expect(comparison.candidate).toBe(echoId)
    expect(comparison.instances).toBe(32)
    expect(comparison.tasks).toHaveLength(8)
    // Echoing the input beats "Yes" on the generation tasks (grammar correction copies most words)
    // and loses on the yes/no tasks where "Yes" is sometimes right.
    const grammar = comparison.tasks.find((task: { task: string }) => task.task === "mini006_grammar_correction_daily")
    expect(grammar.outcome).toBe("improved")
    const counts = comparison.counts
    expect(counts.improved + counts.tied + counts.worse).toBe(8)
    expect(result.metrics[`${echoId}.tasksImproved`]).toBe(counts.improved)
    expect(result.metrics[`${echoId}.tasksImprovedPct`]).toBe((100 * counts.improved) / 8)

    // Resumable: an interrupted comparison run continues from its own recipe.yaml (the scratch recipe is gone).
    const manifestFile = path.join(result.runDir, "manifest.json")
    const saved = JSON.parse(readFileSync(manifestFile, "utf8"))
    writeFileSync(manifestFile, JSON.stringify({ ...saved, status: "interrupted", stages: { ...saved.stages, compare: { ...saved.stages.compare, status: "interrupted" } } }))
    const resumed = await Effect.runPromise(resumeRunDir(result.runDir, { cacheDir }))
    expect(resumed.manifest.status).toBe("completed")
    expect(resumed.manifest.stages["compare"]!.status).toBe("cached")
    expect(resumed.manifest.stages[yesId]!.status).toBe("completed")

    // The same runs again: a new comparison run, every stage served from the cache, same report.
    const again = await Effect.runPromise(compareRunDirs({ baselineRun: yes, candidateRuns: [echo], runsDir, cacheDir, options: { resamples: 200 } }))
    expect(again.runDir).not.toBe(result.runDir)
    expect(Object.values(again.manifest.stages).map((stage) => stage.status)).toEqual(["cached", "cached", "cached"])
    expect(readFileSync(path.join(again.runDir, "stages/compare/comparison.json"), "utf8")).toBe(readFileSync(path.join(stageDir, "comparison.json"), "utf8"))

    // A re-evaluated run (its evaluation folder's content changed) is imported and compared again.
    const records = path.join(echo, "stages/eval/records.jsonl")
    const edited = readFileSync(records, "utf8").replace(/"prediction":"[^"]*"/, "\"prediction\":\"Yes\"")
    writeFileSync(records, edited)
    const changed = await Effect.runPromise(compareRunDirs({ baselineRun: yes, candidateRuns: [echo], runsDir, cacheDir, options: { resamples: 200 } }))
    expect(changed.manifest.stages[yesId]!.status).toBe("cached")
    expect(changed.manifest.stages[echoId]!.status).toBe("completed")
    expect(changed.manifest.stages["compare"]!.status).toBe("completed")

    // The same through the command's argument parsing, with the official per-category metric.
    await Effect.runPromise(
      Command.runWith(compareCommand, { version: "test" })([yes, echo, "--runs-dir", path.join(dir, "via-cli"), "--cache-dir", cacheDir, "--metric", "official", "--resamples", "100"]).pipe(
        Effect.provide(NodeServices.layer)
      )
    )
    const [viaCli] = readdirSync(path.join(dir, "via-cli"))
    const official = JSON.parse(readFileSync(path.join(dir, "via-cli", viaCli!, "stages/compare/comparison.json"), "utf8")).comparisons[0]
    expect(official.metric).toBe("official")
    expect(official.bootstrap.resamples).toBe(100)
    const entailment = official.tasks.find((task: { task: string }) => task.task === "mini001_kitchen_entailment")
    expect(entailment.metric).toBe("exactMatch")

    // Several candidates, one of them the baseline run itself: each is compared with the baseline in one report.
    const result3 = await Effect.runPromise(compareRunDirs({ baselineRun: yes, candidateRuns: [echo, yes], runsDir, cacheDir, options: { resamples: 50 } }))
    expect(result3.manifest.stages["compare"]!.inputs).toEqual({ baseline: yesId, candidates: [echoId, `${yesId}_2`] })
    const both = JSON.parse(readFileSync(path.join(result3.runDir, "stages/compare/comparison.json"), "utf8")).comparisons
    expect(both).toHaveLength(2)
    expect(both[1].counts).toEqual({ improved: 0, tied: 8, worse: 0 })
    // Per candidate: tasks improved and worse (counts), the share improved (per cent), the mean difference.
    expect(Object.keys(result3.metrics)).toHaveLength(8)
    expect(readFileSync(path.join(result3.runDir, "stages/compare/report.md"), "utf8")).toContain("## Summary")
  }, 180_000)

  it("names no plugin component: a non-SuperNI plugin's declared comparison stage is found and run", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cli-compare-tally-"))
    const tallyRun = async (name: string, values: ReadonlyArray<number>) => {
      const file = path.join(dir, `${name}.yaml`)
      writeFileSync(file, `name: ${name}\nseed: 1\nplugins:\n  - ${tallyPlugin}\nstages:\n  counted:\n    _component_: tally/score\n    values: [${values.join(", ")}]\n`)
      const resolved = await Effect.runPromise(loadRecipe(file, { cwd: process.cwd() }))
      return (await Effect.runPromise(runRecipe(resolved, { runsDir: path.join(dir, "runs"), cache: false }))).runDir
    }
    const low = await tallyRun("low", [1, 2, 3])
    const high = await tallyRun("high", [10, 2, 3])
    const result = await Effect.runPromise(compareRunDirs({ baselineRun: low, candidateRuns: [high], runsDir: path.join(dir, "comparisons"), cache: false }))
    const highId = path.basename(high)
    expect(result.manifest.status).toBe("completed")
    expect(result.manifest.stages["compare"]!.componentId).toBe("tally/diff")
    expect(result.manifest.stages[highId]!.componentId).toBe("tally/import")
    expect(result.metrics[`${highId}.delta`]).toBe(9)
    expect(result.compared.map((run) => run.stage)).toEqual(["counted", "counted"])
    const recipeText = readFileSync(path.join(result.runDir, "recipe.yaml"), "utf8")
    expect(recipeText).not.toContain("superni")

    // A run whose plugins offer no comparison stage is refused, naming them.
    const noneFile = path.join(dir, "none.yaml")
    writeFileSync(noneFile, `name: none\nseed: 1\nplugins:\n  - "@refine-af/plugin-demo"\nstages:\n  lines:\n    _component_: demo/lines\n    count: 3\n`)
    const none = await Effect.runPromise(Effect.flip(compareRunDirs({ baselineRun: await (async () => {
      const resolved = await Effect.runPromise(loadRecipe(noneFile, { cwd: process.cwd() }))
      return (await Effect.runPromise(runRecipe(resolved, { runsDir: path.join(dir, "runs"), cache: false }))).runDir
    })(), candidateRuns: [low] })))
    expect(none._tag).toBe("RunDirInvalid")
    expect(none.message).toContain("none of the run's plugins (demo) offers a comparison stage")
  }, 120_000)

  it("explains what is wrong with a folder that is not a run, and a run without an evaluation", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cli-compare-bad-"))
    const notRun = await Effect.runPromise(Effect.flip(compareRunDirs({ baselineRun: dir, candidateRuns: [dir] })))
    expect(notRun._tag).toBe("RunDirInvalid")
    const yes = await runOnce(dir, "yes", "    mode: constant\n    text: \"Yes\"")
    const wrongStage = await Effect.runPromise(Effect.flip(compareRunDirs({ baselineRun: yes, candidateRuns: [yes], stage: "nope" })))
    expect(wrongStage).toMatchObject({ _tag: "RunDirInvalid" })
    expect(wrongStage.message).toContain("no stage \"nope\"")
    expect((wrongStage as { fix: string }).fix).toContain("eval")
  }, 120_000)
})
