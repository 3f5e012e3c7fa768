/**
 * Decode speed with the LM head pre-packed (the default) against read as the
 * cache file's bytes (`decodeHead: mapped`), in ONE process on one backend,
 * interleaved round by round so both see the same machine load: the int8 /
 * int4 model loaded twice from its quantised-weight cache (the same mapped
 * files and pre-packed store), one decode step (KV cache 64) at batch 1 and 8
 * per setting. Median and best of the rounds, in ms, and their ratio.
 *
 *   npx tsx tools/bench-quant/head-speed.ts <model folder> [--precision int4|int8] [--rounds 15]
 *
 * The cache is `<folder>-quantised` (bench-quant's `--cache --keep` leaves one
 * there; a missing one is written first). Prints a table; writes
 * bench-results/head-speed-<model folder name>-<precision>.json.
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
const SETTINGS = ["prepacked", "mapped"] as const
const startLoad = loadavg()

const main = Effect.scoped(Effect.gen(function* () {
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 2, worker: false, float16Weights: false })
  const runtimes: Record<string, LlamaRuntime> = {}
  for (const decodeHead of SETTINGS) {
    const loaded = yield* loadLlama(folder, backend, { contextLength: 512, maxBatch: 8, quantisedBinding: "auto", decodeHead, precision: { precision, cacheRoot: `${folder}-quantised` } })
    runtimes[decodeHead] = loaded.runtime
  }
  const rows: Array<Record<string, number | string>> = []
  for (const batch of [1, 8]) {
    const cache = 64
    const shape = { batch, length: 1, cache }
    const config = runtimes.prepacked!.config
    const feeds = { ...makeStepFeeds(config, runtimes.prepacked!.frequencies, shape, leftPadRows(Array.from({ length: batch }, (_, r) => [5 + r]), 1, 0, cache), 0), ...zeroCaches(config, batch, cache) }
    const compileSeconds: Record<string, number> = {}
    const steps: Array<() => Promise<unknown>> = []
    for (const name of SETTINGS) {
      const runtime = runtimes[name]!
      const started = performance.now()
      const exe = yield* runtime.executable(shape, "last-logits")
      compileSeconds[name] = (performance.now() - started) / 1000
      steps.push(() => Effect.runPromise(runtime.run(exe, feeds)))
    }
    // One warm-up run each, then the rounds in alternating order (bench-compute's `interleaved`).
    const [prepacked, mapped] = (yield* Effect.promise(() => interleaved(ROUNDS, steps))) as [Timing, Timing]
    rows.push({
      batch,
      prepackedMedianMs: prepacked.median,
      mappedMedianMs: mapped.median,
      prepackedBestMs: prepacked.min,
      mappedBestMs: mapped.min,
      // > 1: the mapped head's step is slower.
      medianRatio: mapped.median / prepacked.median,
      bestRatio: mapped.min / prepacked.min,
      prepackedCompileSeconds: compileSeconds.prepacked!,
      mappedCompileSeconds: compileSeconds.mapped!
    })
  }
  return rows
}))

const rows = await Effect.runPromise(main)
const report = {
  benchmark: "head-speed",
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() },
  settings: { folder: nodePath.basename(folder), precision, rounds: ROUNDS, cache: 64, threads: 2, quantisedBinding: "auto", note: "one decode step per round and setting, interleaved (order alternating); prepacked: the default decode head, mapped: decodeHead mapped (the LM head read as the cache file's bytes)" },
  rows
}
console.log(`head-speed ${nodePath.basename(folder)} ${precision}; load average ${startLoad.map((l) => l.toFixed(1)).join(" ")} → ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)
console.log("batch  prepacked ms (median / best)  mapped ms (median / best)  mapped ÷ prepacked (median / best)  compile s (prepacked / mapped)")
for (const r of rows) {
  const n = (v: number | string) => (v as number).toFixed(1)
  console.log(`${String(r.batch).padStart(5)}  ${`${n(r.prepackedMedianMs!)} / ${n(r.prepackedBestMs!)}`.padStart(28)}  ${`${n(r.mappedMedianMs!)} / ${n(r.mappedBestMs!)}`.padStart(25)}  ${`${(r.medianRatio as number).toFixed(3)} / ${(r.bestRatio as number).toFixed(3)}`.padStart(35)}  ${`${n(r.prepackedCompileSeconds!)} / ${n(r.mappedCompileSeconds!)}`.padStart(30)}`)
}
const file = benchOutFile(nodePath.join(repoRoot, `bench-results/head-speed-${nodePath.basename(folder)}-${precision}.json`))
mkdirSync(nodePath.dirname(file), { recursive: true })
writeFileSync(file, JSON.stringify(report, null, 2) + "\n")
console.log(`wrote ${file}`)
