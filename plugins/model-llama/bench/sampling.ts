/**
 * Benchmark: host sampling time per generated token at the Qwen3 vocabulary
 * size (151,936), the full-sort sampler (the previous implementation, kept in
 * test/support) next to the selection-based one, for greedy, temperature-only,
 * top-k, top-p and the Qwen3 default (temperature 0.6, top-k 20, top-p 0.95).
 * Both draw the same tokens (checked here too); only the time differs. For
 * k <= 128 both take the same code path (a one-pass short list), so those rows
 * show the run-to-run noise of the machine. The selection sampler gets each
 * row's log-sum-exp as the generation programs compute it (the full-sort one
 * computes it itself, as it did), so its greedy row is the cost of an argmax.
 *
 *   npx tsx plugins/model-llama/bench/sampling.ts
 *
 * Prints a table and writes bench-results/llama-sampling.json at the repo root.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { SamplingParams } from "@refine-af/core"
import { logSumExp, sampleNext, seededUniform, type Uniform } from "../src/index.ts"
import { referenceSampleNext } from "../test/support/full-sort-reference.ts"

const repoRoot = path.resolve(import.meta.dirname, "../../..")
const vocab = 151_936
const rows = 16
const tokensPerRun = 48

// Logit rows shaped like a language model's: a broad Gaussian body and a few strong candidates.
const random = seededUniform(2024)
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
const logitRows = Array.from({ length: rows }, () => {
  const row = new Float32Array(vocab)
  for (let i = 0; i < vocab; i++) row[i] = 2.5 * normal()
  for (let j = 0; j < 30; j++) row[Math.floor(random() * vocab)] = 10 + 3 * random()
  return row
})

const settings: ReadonlyArray<readonly [string, SamplingParams]> = [
  ["greedy", { maxNewTokens: 1, temperature: 0 }],
  ["temperature 0.7", { maxNewTokens: 1, temperature: 0.7 }],
  ["top-k 50", { maxNewTokens: 1, temperature: 0.7, topK: 50 }],
  ["top-k 5000", { maxNewTokens: 1, temperature: 0.7, topK: 5000 }],
  ["top-p 0.9", { maxNewTokens: 1, temperature: 0.7, topP: 0.9 }],
  ["top-p 0.95 (T=1)", { maxNewTokens: 1, temperature: 1, topP: 0.95 }],
  ["qwen3 default (T=0.6, k=20, p=0.95)", { maxNewTokens: 1, temperature: 0.6, topK: 20, topP: 0.95 }]
]

type Sampler = (logits: Float32Array, params: SamplingParams, uniform: Uniform, promptIds: ReadonlyArray<number>, generatedIds: ReadonlyArray<number>, logSumExpOfLogits: number) => { readonly tokenId: number }
const rowLogSumExps = logitRows.map((row) => logSumExp(row))
const run = (sampler: Sampler, params: SamplingParams): Array<number> => {
  const uniform = seededUniform(7)
  const tokens: Array<number> = []
  for (let t = 0; t < tokensPerRun; t++) tokens.push(sampler(logitRows[t % rows]!, params, uniform, [], [], rowLogSumExps[t % rows]!).tokenId)
  return tokens
}
const repeats = 5
/** Milliseconds per token of one run. */
const timeRun = (sampler: Sampler, params: SamplingParams) => {
  const start = performance.now()
  run(sampler, params)
  return (performance.now() - start) / tokensPerRun
}
/** Best of `repeats` runs of each sampler, alternating so both see the same machine load. */
const bestOfInterleaved = (params: SamplingParams) => {
  let fullSort = Infinity
  let selection = Infinity
  for (let repeat = 0; repeat < repeats; repeat++) {
    fullSort = Math.min(fullSort, timeRun(referenceSampleNext, params))
    selection = Math.min(selection, timeRun(sampleNext, params))
  }
  return { fullSort, selection }
}

const loadAverageAtStart = os.loadavg()
const results = settings.map(([name, params]) => {
  const same = run(referenceSampleNext, params).join(",") === run(sampleNext, params).join(",")
  if (!same) throw new Error(`${name}: the selection sampler drew different tokens from the full-sort sampler`)
  const { fullSort: fullSortMs, selection: selectionMs } = bestOfInterleaved(params)
  return { setting: name, params, fullSortMsPerToken: fullSortMs, selectionMsPerToken: selectionMs, speedup: fullSortMs / selectionMs, sameTokens: same }
})
const greedyMs = results[0]!.selectionMsPerToken

console.log(`host sampling, vocab ${vocab}, ${tokensPerRun} tokens per run, best of ${repeats} interleaved (ms/token)`)
console.log(["setting".padEnd(38), "full sort".padStart(10), "selection".padStart(10), "speedup".padStart(8), "vs greedy".padStart(10)].join(" "))
for (const r of results) {
  console.log([r.setting.padEnd(38), r.fullSortMsPerToken.toFixed(3).padStart(10), r.selectionMsPerToken.toFixed(3).padStart(10), `${r.speedup.toFixed(1)}x`.padStart(8), `${(r.selectionMsPerToken / greedyMs).toFixed(1)}x`.padStart(10)].join(" "))
}

const out = path.join(repoRoot, "bench-results", "llama-sampling.json")
mkdirSync(path.dirname(out), { recursive: true })
writeFileSync(out, JSON.stringify({
  benchmark: "llama-sampling",
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart, loadAverageAtEnd: os.loadavg() },
  settings: { vocab, logitRows: rows, tokensPerRun, repeats, statistic: "best of repeats, ms per token", baseline: "full comparator sort (previous sampleNext)" },
  results: results.map((r) => ({ ...r, selectionOverGreedy: r.selectionMsPerToken / greedyMs }))
}, null, 2) + "\n")
console.log(`wrote ${path.relative(repoRoot, out)}`)
