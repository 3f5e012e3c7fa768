/**
 * Decode-session benchmark: what a new decode shape (batch bucket × cache
 * size) costs to compile under `quantised_binding: auto` with the
 * quantised-weight cache and backend-onnx's pre-packed store, each decode
 * step a session of its own (the default since session 38) against the
 * steps of a family sharing one session group (`groupServedDecodes`), where
 * every shape that joins rebuilds the group and onnxruntime pre-packs each
 * member again to hash it against the store's form.
 *
 *   npx tsx tools/bench-weights/decode-sessions.ts [--model 1.1b|7b] [--precision int4|int8] [--folder <model folder>] [--keep] [--modes own,grouped,own] [--pss-every <ms>]
 *
 * Each mode runs in its own process, in the order own, grouped, own: the
 * first fills the quantised-weight cache and makes the store (its times
 * include that), the other two read them. A process loads the model,
 * generates once (4 tokens, batch 1: prefill and the first decode shape),
 * then compiles five more decode shapes one by one, timing each and reading
 * its PSS (anonymous and file-backed) after it. The synthetic model (random
 * weights, tools/tiny-model) and its cache go under the temp folder and are
 * deleted afterwards unless `--keep` or `--folder` (an existing folder is
 * reused; a missing one is written). Prints a table and writes
 * bench-results/decode-sessions-<model>-<precision>.json.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir, totalmem } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { cacheKeeper, generateTokens, loadLlama } from "@refine-af/model-llama"
import { Effect } from "effect"
import { BENCH_LLAMA_SHAPES } from "../tiny-model/bench-shapes.ts"
import { makeTinyModel } from "../tiny-model/make-tiny-model.ts"
import { benchOutFile, highestPss, pssByFile, pssEveryArg, pssRollup, sampled, type PssReading } from "../gpu-check/bench-env.ts"

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const repoRoot = nodePath.resolve(here, "../..")
const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const modelName = arg("--model", "1.1b") as keyof typeof BENCH_LLAMA_SHAPES
const precision = arg("--precision", "int4") as "int4" | "int8"
/** The decode shapes compiled after the first generation, in this order (rows, cache slots). */
const SHAPES: ReadonlyArray<readonly [number, number]> = [[8, 256], [1, 192], [8, 128], [4, 64], [2, 64]]

type Mode = "own" | "grouped" | "own-head-mapped"

const child = async (folder: string, mode: Mode) => {
  const result = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 2, worker: false, float16Weights: false })
    let t = performance.now()
    const { runtime } = yield* loadLlama(folder, backend, { contextLength: 512, maxBatch: 8, quantisedBinding: "auto", groupServedDecodes: mode === "grouped", ...(mode === "own-head-mapped" ? { decodeHead: "mapped" as const } : {}), precision: { precision, cacheRoot: `${folder}-quantised` } })
    const loadSeconds = (performance.now() - t) / 1000
    const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 512, maxBatch: 8 }
    t = performance.now()
    const generationStartedAt = Date.now()
    yield* generateTokens(runtime, [{ promptIds: Array.from({ length: 32 }, (_, i) => 3 + i), params: { maxNewTokens: 4, temperature: 0 } }], options)
    const firstGenerationSeconds = (performance.now() - t) / 1000
    const generationEndedAt = Date.now()
    const kvMode = yield* runtime.kvCache
    const shapes: Array<{ batch: number; cache: number; seconds: number; grouped: boolean; startedAt: number; endedAt: number; pss: number; anon: number; file: number }> = []
    for (const [batch, cache] of SHAPES) {
      const keeper = cacheKeeper(runtime, kvMode, cache)
      t = performance.now()
      const startedAt = Date.now()
      const exe = yield* runtime.executable({ batch, length: 1, cache }, "last-logits", undefined, keeper.update)
      shapes.push({ batch, cache, seconds: (performance.now() - t) / 1000, grouped: exe.grouped === true, startedAt, endedAt: Date.now(), ...pssRollup() })
    }
    return { mode, loadSeconds, firstGenerationSeconds, generationStartedAt, generationEndedAt, shapes, pssByFileAtEnd: pssByFile() }
  })))
  console.log(JSON.stringify(result))
}

const childMode = arg("--child", "")
if (childMode !== "") {
  await child(arg("--folder", ""), childMode as Mode)
} else {
  const given = arg("--folder", "")
  const folder = given === "" ? nodePath.join(tmpdir(), `refine-af-bench-sessions-${modelName}`) : nodePath.resolve(given)
  const keep = process.argv.includes("--keep") || given !== ""
  // `--modes own,grouped`: the children to run, in order (default own, grouped, own; own-head-mapped: own sessions
  // reading the LM head as the cache file's bytes, `decodeHead: mapped`). `--pss-every <ms>`: each child's
  // PSS read from outside at that pace (bench-env `sampled`), giving each shape's peak while it compiled; the
  // readings take CPU beside the compile (~80 ms each at 7B), so its times are not the plain ones.
  const modes = arg("--modes", "own,grouped,own").split(",") as Array<Mode>
  const pssEveryMs = pssEveryArg()
  const startLoad = loadavg()
  const runs: Array<any> = []
  try {
    if (!existsSync(nodePath.join(folder, "config.json"))) await makeTinyModel({ out: folder, config: "llama", overrides: BENCH_LLAMA_SHAPES[modelName], seed: 0 })
    for (const mode of modes) {
      const childArgs = ["--import", "tsx", fileURLToPath(import.meta.url), "--child", mode, "--folder", folder, "--model", modelName, "--precision", precision]
      const cacheAndStore = runs.length === 0 ? "made (unless a kept folder had them)" : "read"
      if (pssEveryMs === undefined) {
        const out = execFileSync(process.execPath, childArgs, { encoding: "utf8", cwd: nodePath.join(repoRoot, "tools"), maxBuffer: 1 << 26, stdio: ["ignore", "pipe", "inherit"] })
        runs.push({ ...JSON.parse(out.trim().split("\n").pop()!), cacheAndStore })
      } else {
        // PSS read from outside at a fixed pace: each shape's highest reading while it compiled, against the last
        // reading before it started (what the compile added at its peak, beyond what stays).
        const out = await sampled(process.execPath, childArgs, { cwd: nodePath.join(repoRoot, "tools") }, { pssEveryMs })
        const run = JSON.parse(out.stdout.trim().split("\n").pop()!)
        const window = (startedAt: number, endedAt: number) => {
          const during = out.series.filter((r) => r.at >= startedAt && r.at <= endedAt)
          return { readings: during.length, before: out.series.filter((r) => r.at < startedAt).pop(), peak: highestPss(during) }
        }
        const shapes = run.shapes.map((shape: { startedAt: number; endedAt: number }) => ({ ...shape, sampled: window(shape.startedAt, shape.endedAt) }))
        runs.push({ ...run, shapes, cacheAndStore, firstGenerationSampled: window(run.generationStartedAt, run.generationEndedAt), sampledPeak: out.atPssPeak, sampler: out.sampler })
      }
    }
  } finally {
    if (!keep) {
      rmSync(folder, { recursive: true, force: true })
      rmSync(`${folder}-quantised`, { recursive: true, force: true })
    }
  }
  const report = {
    benchmark: "decode-sessions",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, totalMemGiB: totalmem() / 2 ** 30, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() },
    settings: { model: modelName, config: BENCH_LLAMA_SHAPES[modelName], precision, quantisedBinding: "auto", cache: true, prepackedStore: true, threads: 2, shapes: SHAPES, malloc: "glibc defaults", ...(pssEveryMs === undefined ? {} : { pssEveryMs }) },
    note: "seconds: runtime.executable for a new decode shape (compile + session creation); own: each decode step a session of its own (default), grouped: groupServedDecodes (the family's steps one session group, rebuilt when a shape joins). pss / anon / file: the process's PSS after that compile, bytes; with --pss-every, sampled: the readings taken from outside while it compiled (peak) and the last one before (before), firstGenerationSampled the same for the first generation (prefill and the first decode shape), sampledPeak the run's highest",
    runs
  }
  console.log(`model ${modelName} ${precision}; load average ${startLoad.map((l) => l.toFixed(1)).join(" ")} → ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)
  console.log(`mode      load s  1st gen s  ${SHAPES.map(([b, c]) => `${b}x${c}`.padStart(8)).join("")}  total s  PSS GiB (anon)${pssEveryMs === undefined ? "" : "  peak PSS GiB while compiling, per shape  run's peak"}`)
  for (const r of runs) {
    const total = r.shapes.reduce((n: number, s: { seconds: number }) => n + s.seconds, 0)
    const last = r.shapes[r.shapes.length - 1]
    console.log(`${r.mode.padEnd(8)} ${r.loadSeconds.toFixed(1).padStart(7)} ${r.firstGenerationSeconds.toFixed(1).padStart(10)}  ${r.shapes.map((s: { seconds: number }) => s.seconds.toFixed(1).padStart(8)).join("")} ${total.toFixed(1).padStart(8)}  ${(last.pss / 2 ** 30).toFixed(2)} (${(last.anon / 2 ** 30).toFixed(2)})${r.sampledPeak === undefined ? "" : `  ${r.shapes.map((s: { sampled: { peak?: PssReading } }) => (s.sampled.peak === undefined ? "-" : (s.sampled.peak.pss / 2 ** 30).toFixed(2)).padStart(6)).join("")}  ${(r.sampledPeak.pss / 2 ** 30).toFixed(2)}`}`)
  }
  const file = benchOutFile(nodePath.join(repoRoot, `bench-results/decode-sessions-${modelName}-${precision}.json`))
  mkdirSync(nodePath.dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify(report, null, 2) + "\n")
  console.log(`wrote ${file}`)
}
