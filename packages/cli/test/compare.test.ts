import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { NodeServices } from "@effect/platform-node"
import { Command } from "effect/cli"
import { loadRecipe, runRecipe } from "@refine-af/core"
import { compareCommand, compareRunDirs } from "../src/commands/compare.ts"

const fixturePlugin = path.resolve(__dirname, "fixtures/scripted-lm")

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
  it("compares two finished runs' SuperNI evaluations and writes the reports", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cli-compare-"))
    const yes = await runOnce(dir, "yes", "    mode: constant\n    text: \"Yes\"")
    const echo = await runOnce(dir, "echo", "    mode: echo")
    const out = path.join(dir, "yes-vs-echo")
    const result = await Effect.runPromise(compareRunDirs({ baselineRun: yes, candidateRuns: [echo], out, options: { resamples: 200 } }))
    expect(result.out).toBe(out)
    for (const file of ["report.md", "report.html", "comparison.json", "records.jsonl"]) expect(existsSync(path.join(out, file))).toBe(true)
    const comparison = JSON.parse(readFileSync(path.join(out, "comparison.json"), "utf8")).comparisons[0]
    expect(comparison.instances).toBe(32)
    expect(comparison.tasks).toHaveLength(8)
    // Echoing the input beats "Yes" on the generation tasks (grammar correction copies most words)
    // and loses on the yes/no tasks where "Yes" is sometimes right.
    const grammar = comparison.tasks.find((task: { task: string }) => task.task === "mini006_grammar_correction_daily")
    expect(grammar.outcome).toBe("improved")
    const counts = comparison.counts
    expect(counts.improved + counts.tied + counts.worse).toBe(8)
    const improvedKey = Object.keys(result.metrics).find((key) => key.endsWith("tasksImproved"))!
    expect(result.metrics[improvedKey]).toBe((100 * counts.improved) / 8)

    // The same through the command's argument parsing, with the official per-category metric.
    const viaCli = path.join(dir, "via-cli")
    await Effect.runPromise(
      Command.runWith(compareCommand, { version: "test" })([yes, echo, "--out", viaCli, "--metric", "official", "--resamples", "100"]).pipe(
        Effect.provide(NodeServices.layer)
      )
    )
    const official = JSON.parse(readFileSync(path.join(viaCli, "comparison.json"), "utf8")).comparisons[0]
    expect(official.metric).toBe("official")
    expect(official.bootstrap.resamples).toBe(100)
    const entailment = official.tasks.find((task: { task: string }) => task.task === "mini001_kitchen_entailment")
    expect(entailment.metric).toBe("exactMatch")

    // Several candidates: each is compared with the baseline in one report.
    const several = path.join(dir, "several")
    const result3 = await Effect.runPromise(compareRunDirs({ baselineRun: yes, candidateRuns: [echo, yes], out: several, options: { resamples: 50 } }))
    const both = JSON.parse(readFileSync(path.join(several, "comparison.json"), "utf8")).comparisons
    expect(both).toHaveLength(2)
    expect(both[1].counts).toEqual({ improved: 0, tied: 8, worse: 0 })
    expect(Object.keys(result3.metrics)).toHaveLength(4)
    expect(readFileSync(path.join(several, "report.md"), "utf8")).toContain("## Summary")
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
