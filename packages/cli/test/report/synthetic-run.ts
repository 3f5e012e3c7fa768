/**
 * A run folder written by hand for the run-report tests: a bootstrap-like stage with
 * `data.report` (filter table, accepted/rejected samples), a trainer with `curves.jsonl` and
 * `samples.jsonl` (a reward breakdown), an evaluator with `tables.json`, a stage with nothing
 * but metrics, a failed stage and a pending one; optionally with no report material at all.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { RunManifest } from "@refine-af/core"

type Stage = RunManifest["stages"][string]

const stage = (componentId: string, extra: Partial<Stage> = {}): Stage => ({
  status: "completed",
  componentId,
  version: "1",
  cacheKey: "k",
  records: 4,
  durationMs: 1500,
  ...extra
})

/** Long enough that the Markdown must wrap it to stay within 100 columns. */
export const longInstruction =
  "Rewrite the following paragraph so that every sentence starts with a verb, keeps its meaning and uses no word longer than twelve letters, then explain the change."

const manifest = (withMaterial: boolean): RunManifest => ({
  formatVersion: 1,
  runId: "synthetic-20260101-000000-abcd",
  name: "synthetic",
  recipeFile: "/recipes/synthetic.yaml",
  status: "failed",
  seed: 7,
  core: { name: "@refine-af/core", version: "0.1.0" },
  plugins: [],
  node: process.version,
  hostname: os.hostname(),
  platform: "linux-x64",
  cacheDir: "/cache",
  cacheEnabled: true,
  startedAt: "2026-01-01T00:00:00.000Z",
  endedAt: "2026-01-01T00:10:00.000Z",
  attempts: [{ startedAt: "2026-01-01T00:00:00.000Z", endedAt: "2026-01-01T00:10:00.000Z", status: "failed" }],
  stages: {
    instructions: stage("self-instruct/bootstrap", {
      status: "cached",
      metrics: { candidates: 20, accepted: 12, too_similar: 5, too_short: 3 },
      ...(withMaterial ? {
        data: {
          report: {
            tables: [{ title: "Filter statistics", columns: ["filter", "rejected", "share of candidates"], rows: [["too_similar", 5, 0.25], ["too_short", 3, 0.15]] }],
            samples: [
              { group: "accepted", instruction: longInstruction },
              { group: "accepted", instruction: "Sort the numbers in ascending order." },
              { group: "rejected", instruction: "Draw a map.", reason: "too_short" }
            ]
          }
        }
      } : {})
    }),
    ppo: stage("ppo/train", { records: 5, metrics: { reward_mean: 0.6, kl: 0.01 } }),
    evaluate: stage("superni/evaluate", { metrics: { rougeL: 31.5 } }),
    classify: stage("self-instruct/classify", { metrics: { yes: 3, no: 9 } }),
    sft: stage("sft/lora", { status: "failed", records: 2, error: "step 2: PolicyError (NonFinite): the loss is NaN" }),
    compare: { status: "pending", componentId: "superni/compare", version: "1", cacheKey: "" }
  },
  metrics: {},
  error: "stage sft failed"
})

const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
}

/** Writes the synthetic run folder and returns it with its manifest. */
export const syntheticRun = (options: { readonly withMaterial?: boolean } = {}): { readonly runDir: string; readonly manifest: RunManifest } => {
  const withMaterial = options.withMaterial ?? true
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-report-"))
  const m = manifest(withMaterial)
  write(path.join(runDir, "manifest.json"), JSON.stringify(m, null, 2))
  const at = (...parts: Array<string>) => path.join(runDir, "stages", ...parts)
  write(at("instructions", "records.jsonl"), '{"id":"generated_0","instruction":"Sort the numbers."}\n')
  write(at("ppo", "records.jsonl"), "")
  write(at("ppo", "adapter", "adapter_config.json"), "{}")
  write(at("evaluate", "records.jsonl"), "")
  write(at("sft", "records.jsonl"), "")
  write(path.join(runDir, "events.jsonl"), [
    { ts: "2026-01-01T00:00:01.000Z", type: "run_start" },
    { ts: "2026-01-01T00:01:00.000Z", type: "warning", stage: "evaluate", message: "8 of 16 generations hit maxNewTokens=16" }
  ].map((event) => JSON.stringify(event)).join("\n") + "\n")
  if (withMaterial) {
    write(at("ppo", "curves.jsonl"), [
      { step: 0, reward_mean: 0.2, kl: 0, loss: 1.5 },
      { step: 1, reward_mean: 0.35, kl: 0.02, loss: 1.1 },
      { step: 2, reward_mean: 0.5, kl: null, loss: 0.9 },
      { step: 3, reward_mean: 0.55, kl: 0.05, loss: 0.7 },
      { step: 4, reward_mean: 0.6, kl: 0.04, loss: 0.65 }
    ].map((point) => JSON.stringify(point)).join("\n") + "\n")
    write(at("ppo", "samples.jsonl"), [
      { group: "rollouts (last iteration)", prompt: "Task: Sort the numbers.\nInput:", completion: "3, 5, 9", reward: 0.61, parts: { Nat: 0.5, Coh: 0.4, Und: 0.3, Pass: 1 } },
      { group: "rollouts (last iteration)", prompt: "Task: Name a colour.", completion: "blue <b>&</b>", reward: -1, parts: { unparsable: 1 } }
    ].map((sample) => JSON.stringify(sample)).join("\n") + "\n")
    write(at("evaluate", "tables.json"), JSON.stringify({
      tables: [
        { title: "Scores per task", columns: ["task", "category", "rougeL", "instances"], rows: [
          ["task001_kitchen_entailment_with_a_very_long_name_that_does_not_fit_in_a_column_of_a_terminal", "Textual Entailment", 31.5, 2],
          ["task002|pipes", "Title Generation", null, 2],
          ...Array.from({ length: 4 }, (_, index) => [`task00${index + 3}_more`, "Data to Text", index * 10, 2])
        ] },
        { title: "Wide table", columns: Array.from({ length: 14 }, (_, index) => `column_${index}`), rows: [Array.from({ length: 14 }, (_, index) => index * 1000.123)], note: "a table with more columns than 100 columns can show" }
      ]
    }))
  }
  return { runDir, manifest: m }
}
