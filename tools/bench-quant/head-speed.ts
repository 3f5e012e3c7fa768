/**
 * Decode speed of two settings in ONE process on one backend, interleaved
 * round by round so both see the same machine load: the int8 / int4 model
 * loaded twice from its quantised-weight cache, one decode step (KV cache 64)
 * at batch 1 and 8 per setting. Median and best of the rounds, in ms, and
 * their ratio (second ÷ first). The settings (`--compare`):
 * - `head` (default): the LM head pre-packed (the default) against read as the
 *   cache file's bytes (`decodeHead: mapped`), the same mapped files and store;
 *   → bench-results/head-speed-<model folder name>-<precision>.json;
 * - `block`: blocks of 32 values (the default) against 128 (`block_size: 128`),
 *   each with its own cache and store; → block-speed-<folder name>-<precision>.json.
 *
 *   npx tsx tools/bench-quant/head-speed.ts <model folder> [--precision int4|int8] [--rounds 15] [--compare head|block]
 *
 * The caches are under `<folder>-quantised` (bench-quant's `--cache --keep`
 * leaves them there; a missing one is written first). Prints a table.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { loadLlama, zeroCaches, type LlamaRuntime } from "@refine-af/model-llama"
import { leftPadRows, makeStepFeeds } from "@refine-af/models"
import { Effect } from "effect"
import { interleaved, type Timing } from "../bench-compute/timing.ts"
import { benchOutFile } from "../gpu-check/bench-env.ts"

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const repoRoot = nodePath.resolve(here, "../..")
const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const folder = nodePath.resolve(process.argv[2] ?? "")
const precision = arg("--precision", "int4") as "int4" | "int8"
const ROUNDS = Number(arg("--rounds", "15"))
const compare = arg("--compare", "head")
if (compare !== "head" && compare !== "block") throw new Error("--compare must be head or block")
// Each setting's name and what it adds to the load options.
const SETTINGS: ReadonlyArray<readonly [string, { readonly decodeHead?: "prepacked" | "mapped"; readonly blockSize?: number }]> =
  compare === "head" ? [["prepacked", { decodeHead: "prepacked" }], ["mapped", { decodeHead: "mapped" }]] : [["b32", { blockSize: 32 }], ["b128", { blockSize: 128 }]]
const [first, second] = SETTINGS.map(([name]) => name) as [string, string]
const startLoad = loadavg()

const main = Effect.scoped(Effect.gen(function* () {
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 2, worker: false, float16Weights: false })
  const runtimes: Record<string, LlamaRuntime> = {}
  for (const [name, { decodeHead, blockSize }] of SETTINGS) {
    const loaded = yield* loadLlama(folder, backend, { contextLength: 512, maxBatch: 8, quantisedBinding: "auto", ...(decodeHead === undefined ? {} : { decodeHead }), precision: { precision, ...(blockSize === undefined ? {} : { blockSize }), cacheRoot: `${folder}-quantised` } })
    runtimes[name] = loaded.runtime
  }
  const rows: Array<Record<string, number | string>> = []
  for (const batch of [1, 8]) {
    const cache = 64
    const shape = { batch, length: 1, cache }
    const config = runtimes[first]!.config
    const feeds = { ...makeStepFeeds(config, runtimes[first]!.frequencies, shape, leftPadRows(Array.from({ length: batch }, (_, r) => [5 + r]), 1, 0, cache), 0), ...zeroCaches(config, batch, cache) }
    const compileSeconds: Record<string, number> = {}
    const steps: Array<() => Promise<unknown>> = []
    for (const [name] of SETTINGS) {
      const runtime = runtimes[name]!
      const started = performance.now()
      const exe = yield* runtime.executable(shape, "last-logits")
      compileSeconds[name] = (performance.now() - started) / 1000
      steps.push(() => Effect.runPromise(runtime.run(exe, feeds)))
    }
    // One warm-up run each, then the rounds in alternating order (bench-compute's `interleaved`).
    const [a, b] = (yield* Effect.promise(() => interleaved(ROUNDS, steps))) as [Timing, Timing]
    rows.push({
      batch,
      [`${first}MedianMs`]: a.median,
      [`${second}MedianMs`]: b.median,
      [`${first}BestMs`]: a.min,
      [`${second}BestMs`]: b.min,
      // > 1: the second setting's step is slower.
      medianRatio: b.median / a.median,
      bestRatio: b.min / a.min,
      [`${first}CompileSeconds`]: compileSeconds[first]!,
      [`${second}CompileSeconds`]: compileSeconds[second]!
    })
  }
  return rows
}))

const rows = await Effect.runPromise(main)
const report = {
  benchmark: `${compare}-speed`,
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() },
  settings: { folder: nodePath.basename(folder), precision, rounds: ROUNDS, cache: 64, threads: 2, quantisedBinding: "auto", note: compare === "head" ? "one decode step per round and setting, interleaved (order alternating); prepacked: the default decode head, mapped: decodeHead mapped (the LM head read as the cache file's bytes)" : "one decode step per round and setting, interleaved (order alternating); b32: blocks of 32 values (the default), b128: block_size 128" },
  rows
}
console.log(`${compare}-speed ${nodePath.basename(folder)} ${precision}; load average ${startLoad.map((l) => l.toFixed(1)).join(" ")} → ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)
console.log(`batch  ${first} ms (median / best)  ${second} ms (median / best)  ${second} ÷ ${first} (median / best)  compile s (${first} / ${second})`)
for (const r of rows) {
  const n = (v: number | string | undefined) => (v as number).toFixed(1)
  console.log(`${String(r.batch).padStart(5)}  ${`${n(r[`${first}MedianMs`])} / ${n(r[`${first}BestMs`])}`.padStart(first.length + 19)}  ${`${n(r[`${second}MedianMs`])} / ${n(r[`${second}BestMs`])}`.padStart(second.length + 19)}  ${`${(r.medianRatio as number).toFixed(3)} / ${(r.bestRatio as number).toFixed(3)}`.padStart(first.length + second.length + 22)}  ${`${n(r[`${first}CompileSeconds`])} / ${n(r[`${second}CompileSeconds`])}`.padStart(first.length + second.length + 16)}`)
}
const file = benchOutFile(nodePath.join(repoRoot, `bench-results/${compare}-speed-${nodePath.basename(folder)}-${precision}.json`))
mkdirSync(nodePath.dirname(file), { recursive: true })
writeFileSync(file, JSON.stringify(report, null, 2) + "\n")
console.log(`wrote ${file}`)
