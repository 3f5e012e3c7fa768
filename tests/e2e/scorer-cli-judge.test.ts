/**
 * The quality scorers through the CLI, scoring a JSONL file with `reward/score`:
 * `unieval/dialog` on the tiny T5 v1.0 of tools/golden/t5 (with a Unigram
 * tokenizer the test writes) and `judge/lm` on the built-in speaker model. A
 * sample longer than the scorer's limit is shortened with a warning naming the
 * scorer, the count and the limit, and a counted metric (exit 0); every score
 * is a probability with its per-dimension breakdown on the row; a judge wired
 * to a resource that is not a LanguageModel, or given options that would make
 * every score the same, is refused at validate (exit 2, no stack trace).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { writeUnigramTokenizer } from "@refine-af/testing"
import { onlyRunDir, pluginPath, records, repoRoot, runCli, runEvents, runFresh, stackTrace, tempDir } from "./cli.ts"

const dimensions = ["naturalness", "coherence", "understandability"]

/** One short sample and one whose questions are far over a small limit (the words are in the tiny Unigram vocabulary). */
const samples = [
  { instruction: "is this natural", input: "", output: "yes this is natural." },
  { instruction: "given the history", input: "a dialogue", output: "an understandable response in the given dialogue history ".repeat(12) }
]

/** A recipe folder with `samples.jsonl` and `recipe.yaml` scoring it with the resource `scorer` (plus `compute`). */
const recipeFolder = (plugins: ReadonlyArray<string>, resources: string): { dir: string; recipe: string } => {
  const dir = tempDir("scorer-judge")
  fs.writeFileSync(path.join(dir, "samples.jsonl"), samples.map((s) => JSON.stringify(s)).join("\n") + "\n")
  fs.writeFileSync(path.join(dir, "recipe.yaml"), `# quality scorers through the CLI
name: scorer-judge
seed: 1
plugins:
${["plugins/backend-onnx", ...plugins, "plugins/reward"].map((p) => `  - ${pluginPath(p)}`).join("\n")}
resources:
  compute: { _component_: backend-onnx/onnx }
${resources}
stages:
  scored: { _component_: reward/score, path: samples.jsonl, scorer: scorer }
`)
  return { dir, recipe: path.join(dir, "recipe.yaml") }
}

/** The judge recipe: `lm` is the built-in speaker with a 96-token context, `scorer` a judge/lm with `options`, then `more` resources. */
const judgeRecipe = (options = "model: lm", more: ReadonlyArray<string> = []) =>
  recipeFolder(["plugins/model-llama", "plugins/judge"], [
    "lm: { _component_: llama/hf, backend: compute, builtin: speaker, max_context: 96 }",
    `scorer: { _component_: judge/lm, ${options} }`,
    ...more
  ].map((line) => `  ${line}`).join("\n"))

/** Runs the recipe; checks exit 0 and that every row has a probability score equal to the mean of its three parts. */
const scoreAll = async (recipe: string) => {
  const runsDir = tempDir("scorer-judge-runs")
  const result = await runFresh(recipe, runsDir)
  expect(result.code, result.stderr).toBe(0)
  const runDir = await onlyRunDir(runsDir)
  const rows = records<{ output: string; score: number; score_parts: Record<string, number> }>(runDir, "scored")
  expect(rows.map((r) => r.output)).toEqual(samples.map((s) => s.output))
  for (const row of rows) {
    expect(Object.keys(row.score_parts).sort()).toEqual([...dimensions].sort())
    for (const p of [row.score, ...Object.values(row.score_parts)]) {
      expect(Number.isFinite(p)).toBe(true)
      expect(p).toBeGreaterThan(0)
      expect(p).toBeLessThan(1)
    }
    expect(row.score).toBeCloseTo(dimensions.reduce((sum, d) => sum + row.score_parts[d]!, 0) / 3, 12)
  }
  // Per-dimension answers differ: the breakdown is not one number copied three times.
  expect(new Set(rows.flatMap((r) => Object.values(r.score_parts))).size).toBeGreaterThan(1)
  const events = runEvents(runDir)
  const metric = (name: string) => events.filter((e) => e["type"] === "metric" && e["name"] === name).map((e) => e["value"])
  for (const d of dimensions) expect(metric(`mean_${d}`)).toEqual([expect.closeTo(rows.reduce((sum, r) => sum + r.score_parts[d]!, 0) / rows.length, 12)])
  return { output: `${result.stdout}${result.stderr}`, metric }
}

describe("quality scorers through the CLI", () => {
  it("unieval/dialog: the long sample's questions are truncated to max_length with a warning and a counted metric; scores are probabilities with their breakdown", async () => {
    const { dir, recipe } = recipeFolder(["plugins/unieval"], "  scorer: { _component_: unieval/dialog, backend: compute, path: ue, max_length: 64 }")
    const ue = path.join(dir, "ue")
    fs.cpSync(path.join(repoRoot, "tools/golden/t5/tiny-t5-v1_0"), ue, { recursive: true })
    fs.rmSync(path.join(ue, "pytorch_model.bin"))
    writeUnigramTokenizer(ue)
    const { output, metric } = await scoreAll(recipe)
    // One long sample: its three questions (one per dimension) are cut, the short sample's are not.
    expect(output).toMatch(/scorer: 3 question\(s\) of 1 sample\(s\) longer than 64 tokens \(longest \d+\) were truncated/)
    expect(metric("unieval_truncated")).toEqual([3])
  })

  it("judge/lm on the built-in model: questions over the model's context have their responses shortened, with a warning and a counted metric", async () => {
    const { output, metric } = await scoreAll(judgeRecipe().recipe)
    expect(output).toMatch(/judge\/lm \(scorer\): 3 question\(s\) longer than the model's context \(96 tokens\); their responses were shortened to fit/)
    expect(metric("judge_truncated")).toEqual([3])
  })

  it("judge/lm wired to a resource that is not a LanguageModel, or with options that make every score alike, is refused at validate (exit 2), each problem named", async () => {
    // One recipe, four broken judges: validate reports every problem in one pass.
    const { recipe } = judgeRecipe("model: compute", [
      `template: { _component_: judge/lm, model: lm, template: "Is it good?" }`,
      `same: { _component_: judge/lm, model: lm, yes: " Yes", no: " Yes" }`,
      `empty: { _component_: judge/lm, model: lm, no: "" }`
    ])
    const validate = await runCli(["validate", recipe])
    expect(validate.code, validate.stderr).toBe(2)
    expect(validate.stderr).toMatch(/resource "scorer" \(judge\/lm\): slot "model" needs a @refine-af\/core\/LanguageModel but resource "compute" \(backend-onnx\/onnx\) provides @refine-af\/tensor\/Backend/)
    expect(validate.stderr).toMatch(/resource "template" \(judge\/lm\): option "template": must contain \{question\}/)
    expect(validate.stderr).toMatch(/resource "same" \(judge\/lm\): yes and no are the same continuation/)
    expect(validate.stderr).toMatch(/resource "empty" \(judge\/lm\): option "no": must not be empty/)
    expect(validate.stderr).not.toMatch(stackTrace)

    // `run` refuses it before any run folder is made.
    const runsDir = tempDir("scorer-judge-runs")
    const run = await runFresh(recipe, runsDir)
    expect(run.code, run.stderr).toBe(2)
    expect(run.stderr).not.toMatch(stackTrace)
    expect(fs.readdirSync(runsDir)).toEqual([])
  })
})
