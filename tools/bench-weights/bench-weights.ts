/**
 * Weight-memory benchmark: how much resident memory "load + generate (two
 * batch buckets) + score + LoRA train step + reference pass" costs relative
 * to the weight bytes, with the frozen weights shared by every program
 * (bound backend tensors) against baked into each (with and without
 * onnxruntime's pre-packing), plus decode speed and train-step time — side
 * by side in one run, each contender in its own process (`workload.ts`) so
 * peaks do not mix; then (120m) decode and train-step time of both weight
 * modes interleaved in one process (`speed.ts`), the fair speed comparison
 * on a loaded machine.
 *
 *   npx tsx tools/bench-weights/bench-weights.ts [--model 120m|1.1b] [--contenders shared,baked,baked-noprepack] [--default-malloc]
 *   npx tsx tools/bench-weights/bench-weights.ts --contenders int4-shared,int4-auto,int4-baked   # → weights-<model>-quantised.json
 *   npx tsx tools/bench-weights/bench-weights.ts --contenders shared,decode --tag decode   # → weights-120m-decode.json
 *   npx tsx tools/bench-weights/bench-weights.ts --contenders shared,decode,shared-cached,cached,cached-again --tag cached
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --tag store --contenders int4-auto,int4-auto-cached-nostore,int4-auto-cached,int4-auto-cached-again
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --default-malloc --tag reads --contenders int4-auto-cached,int4-auto-cached-noreads,int4-auto-cached-again,int4-auto-cached-checkpointed,int4-auto-cached-checkpointed-noreads,int4-shared-cached
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --default-malloc --tag series --flags smaps,series --contenders int4-auto-cached,int4-auto-cached-again
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --default-malloc --tag sessions --flags mixed,smaps --contenders int4-auto-cached,int4-auto-cached-grouped,int4-auto-cached-again
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --default-malloc --tag head --pss-every 250 --contenders int4-auto-cached,int4-auto-cached-headmapped,int4-auto-cached-again
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --default-malloc --tag block128 --pss-every 250 --contenders int4-auto-cached,int4-auto-cached-again,int4-auto-cached-headmapped,int4-auto-cached-b128,int4-auto-cached-b128-again,int4-auto-cached-b128-headmapped
 *   npx tsx tools/bench-weights/bench-weights.ts --model 7b --folder /tmp/refine-af-bench-quant/7b --default-malloc --tag block128 --pss-every 250 --contenders int4-auto-cached-headmapped,int4-auto-cached-b128-headmapped
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --tag mixed-avx512 --contenders cached-mixed,cached-mixed-again,shared-cached-mixed
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --tag mixed-bakeall --contenders cached-mixed-bakeall,cached-mixed-bakeall-again,cached-mixed,cached-mixed-again
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --tag mixed-rows16 --contenders cached-mixed,cached-mixed-again,cached-mixed-rows16,cached-mixed-rows16-again
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --tag cached-bakeall --contenders shared-cached,cached,cached-again,cached-bakeall,cached-bakeall-again
 *   npx tsx tools/bench-weights/bench-weights.ts --model 1.1b --default-malloc --tag mmap --contenders int4-shared-checkpointed,int4-shared-checkpointed-mmap,int4-shared-checkpointed-mmap-arenas2
 *
 * The model is a synthetic Llama written by tools/tiny-model (random float32
 * weights) into the temp folder and deleted afterwards. Prints a table and
 * writes bench-results/weights-<model>.json.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { cpus, freemem, loadavg, tmpdir, totalmem } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { BENCH_LLAMA_SHAPES } from "../tiny-model/bench-shapes.ts"
import { makeTinyModel } from "../tiny-model/make-tiny-model.ts"
import { defaultMallocEnv, memoryBandwidth, pssEveryArg, sampled } from "../gpu-check/bench-env.ts"

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const repoRoot = nodePath.resolve(here, "../..")
const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}

// `7b` only with `--folder` (a model written by bench-quant `--keep`: 13 GB, about 8 minutes to write).
const MODELS: Record<string, Record<string, unknown>> = { "120m": BENCH_LLAMA_SHAPES["120m"], "1.1b": BENCH_LLAMA_SHAPES["1.1b"], "7b": BENCH_LLAMA_SHAPES["7b"] }
// [weight mode, backend flags, precision, quantised binding, environment added to the contender's]
const CONTENDERS: Record<string, [string, string, string?, string?, Record<string, string>?]> = {
  shared: ["shared", "default"],
  "shared-arena": ["shared", "arena"],
  // What every program did before shared weights: baked constants, pre-packed, with the arena.
  baked: ["baked", "arena"],
  "baked-noprepack": ["baked", "arena,noprepack"],
  // Shared, plus one baked copy that every decode step reads (weight_mode: decode, one session group).
  decode: ["decode", "default"],
  // float32 with the weight cache (as `refine-af run` has): every program reads the weights mapped from a float32
  // copy in the cache, and by default the decode steps bake them, their pre-packed forms made once into the
  // backend's store (weight_mode decode without the memory); `-again` reads that store; `shared-cached` keeps
  // weight_mode shared (decode steps read the mapped file as it is).
  cached: ["default", "cache"],
  "cached-again": ["default", "cache"],
  "shared-cached": ["shared", "cache"],
  // The same with generation as a job has it too (workload.ts `mixed`: uneven budgets, continuous batching, so
  // decode steps of 8, 4, 2 and 1 rows): what the narrower steps cost in memory and time, on top of batch 1 and 8.
  "cached-mixed": ["default", "cache,mixed"],
  "cached-mixed-again": ["default", "cache,mixed"],
  "shared-cached-mixed": ["shared", "cache,mixed"],
  // The same with every decode step baked (workload.ts `bakeall`): what `prefersBound`'s "read the bound weight" costs.
  "cached-mixed-bakeall": ["default", "cache,mixed,bakeall"],
  "cached-mixed-bakeall-again": ["default", "cache,mixed,bakeall"],
  // The mixed generation with up to 16 rows decoded together (workload.ts `rows16`; batch 16 decode measured too).
  "cached-mixed-rows16": ["default", "cache,mixed,rows16"],
  "cached-mixed-rows16-again": ["default", "cache,mixed,rows16"],
  // Batch 1 and 8 only, every decode step baked (`baked_decode_rows: all`), beside `cached` / `cached-again`.
  "cached-bakeall": ["default", "cache,bakeall"],
  "cached-bakeall-again": ["default", "cache,bakeall"],
  // int4 projections (float32 embeddings, LM head and norms): stored once for every program, baked into
  // decode steps only (the default), or baked into every program (what quantised weights did before).
  "int4-shared": ["shared", "default", "int4", "shared"],
  // The same, training with gradient checkpointing (decoder layers and the LM head recomputed in the backward pass).
  "int4-shared-checkpointed": ["shared", "default,checkpoint", "int4", "shared"],
  // The same with glibc limited to two malloc arenas (onnxruntime's pool threads otherwise allocate from arenas of
  // their own, each keeping what it freed).
  "int4-shared-checkpointed-arenas2": ["shared", "default,checkpoint", "int4", "shared", { MALLOC_ARENA_MAX: "2" }],
  // The same with a fixed mmap threshold (glibc then stops raising it after each large free, so every block of
  // 128 KiB or more is its own mapping, returned to the system when freed, and the heap no longer keeps them).
  "int4-shared-checkpointed-mmap": ["shared", "default,checkpoint", "int4", "shared", { MALLOC_MMAP_THRESHOLD_: "131072" }],
  "int4-shared-checkpointed-mmap-arenas2": ["shared", "default,checkpoint", "int4", "shared", { MALLOC_MMAP_THRESHOLD_: "131072", MALLOC_ARENA_MAX: "2" }],
  "int4-auto": ["shared", "default", "int4", "auto"],
  "int4-baked": ["shared", "default", "int4", "baked"],
  // The same three with the quantised-weight cache (as `refine-af run` has, under its cache folder; filled before
  // the first of them): programs that bake the codes map them from the cache file instead of copying them.
  "int4-shared-cached": ["shared", "cache", "int4", "shared"],
  "int4-auto-cached": ["shared", "cache", "int4", "auto"],
  "int4-baked-cached": ["shared", "cache", "int4", "baked"],
  // `auto` with the cache, without the pre-packed store next to it (backend `prepackedStore: false`): every session
  // that bakes the codes pre-packs them in its own memory, as before the store.
  "int4-auto-cached-nostore": ["shared", "cache,nostore", "int4", "auto"],
  // `auto` with the cache once more: the pre-packed store the previous cached `auto` run made is read, not made.
  "int4-auto-cached-again": ["shared", "cache", "int4", "auto"],
  // `auto` with the cache and store, bound programs reading the int4 codes and scales from the cache file instead of
  // from the decode steps' pre-packed blobs (backend `prepackedReads: false`): two resident copies, as before session 36.
  "int4-auto-cached-noreads": ["shared", "cache,noreads", "int4", "auto"],
  // `auto` with the cache and store, the decode steps sharing one session group (workload.ts `grouped`) as before
  // session 38, instead of a session each: every shape that joins rebuilds the group, pre-packing each member again.
  "int4-auto-cached-grouped": ["shared", "cache,grouped", "int4", "auto"],
  // `auto` with the cache and store, the decode steps reading the LM head as the cache file's bytes (`decodeHead: mapped`).
  "int4-auto-cached-headmapped": ["shared", "cache,headmapped", "int4", "auto"],
  // The same with int4 blocks of 128 values (`block_size: 128`: a quarter of the scales, and of the pre-packed blobs'
  // block sums): its own cache and store, made by the first, read by the next two.
  "int4-auto-cached-b128": ["shared", "cache,block128", "int4", "auto"],
  "int4-auto-cached-b128-again": ["shared", "cache,block128", "int4", "auto"],
  "int4-auto-cached-b128-headmapped": ["shared", "cache,block128,headmapped", "int4", "auto"],
  // The same, training with gradient checkpointing.
  "int4-auto-cached-b128-headmapped-checkpointed": ["shared", "cache,block128,headmapped,checkpoint", "int4", "auto"],
  // The same two with the train step checkpointed.
  "int4-auto-cached-checkpointed": ["shared", "cache,checkpoint", "int4", "auto"],
  "int4-auto-cached-checkpointed-noreads": ["shared", "cache,checkpoint,noreads", "int4", "auto"]
}


/** Resident memory of a bare Node process with the same imports (what every contender pays before loading). */
const modelName = arg("--model", "120m")
const contenders = arg("--contenders", "shared,shared-arena,baked,baked-noprepack").split(",")
const steps = arg("--steps", "16")
const defaultMalloc = process.argv.includes("--default-malloc")
// `--tag mmap` → weights-<model>-quantised-default-malloc-mmap.json: a run of other contenders that keeps the usual file.
const tag = arg("--tag", "")
// `--flags smaps,gc`: workload flags added to every contender's (workload.ts); `series` keeps every PSS reading of
// the sampler in the JSON (`pssSeries`: ms since epoch, PSS and its anonymous and file-backed parts, bytes).
const extraFlags = arg("--flags", "")
// `--pss-every <ms>`: PSS read from outside at that fixed pace (bench-env `sampled`) instead of one that slows with the
// cost of a reading, so a peak of a second is not missed; the readings take CPU beside the workload.
const pssEveryMs = pssEveryArg()

const overrides = MODELS[modelName]
if (overrides === undefined) throw new Error(`--model must be one of ${Object.keys(MODELS).join(", ")}`)

// Contenders below float32 are a run of their own (bench-results/weights-<model>-quantised.json).
const quantisedRun = contenders.some((name) => CONTENDERS[name]?.[2] !== undefined)
const startLoad = loadavg()
const bandwidth = memoryBandwidth()
// `--folder <path>`: a model folder written before (kept, with its quantised-weight cache `<path>-quantised`, which
// bench-quant `--keep --cache` fills under the same name) instead of one written and deleted here.
const givenFolder = process.argv.includes("--folder") ? arg("--folder", "") : undefined
if (modelName === "7b" && givenFolder === undefined) throw new Error("--model 7b needs --folder <a 7B-shaped model folder> (bench-quant --model 7b --keep writes one)")
const folder = givenFolder ?? nodePath.join(tmpdir(), `refine-af-bench-weights-${modelName}`)
if (givenFolder === undefined) await makeTinyModel({ out: folder, config: "llama", overrides, seed: 0 })
const rows: Array<any> = []
let speed: Record<string, Record<string, number>> | undefined
// The quantised-weight cache of the `cache` contenders (workload.ts), filled once before them.
const cacheFolder = `${folder}-quantised`
let cacheFill: { seconds: number; precision: string } | undefined
// Each cache (precision and block size: `block64` / `block128` flags) is filled before the first contender that reads it.
const filled = new Set<string>()
try {
  for (const name of contenders) {
    const [mode, prepack, precision, binding, extraEnv] = CONTENDERS[name] ?? []
    if (mode === undefined) throw new Error(`unknown contender ${name}; use ${Object.keys(CONTENDERS).join(", ")}`)
    const workload = (flags: string) =>
      sampled(process.execPath, ["--import", "tsx", nodePath.join(here, "workload.ts"), folder, mode, flags, steps, precision ?? "float32", binding ?? "auto"], {
        cwd: nodePath.join(repoRoot, "tools"),
        // The benchmarks' large malloc thresholds (fast big reads; freed heap memory is then never returned), or
        // with --default-malloc glibc's own (what `refine-af run` gets): peaks then show transient memory only.
        env: { ...(defaultMalloc ? defaultMallocEnv() : { ...process.env, MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? "4294967296", MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? "4294967296" }), ...extraEnv }
      }, pssEveryMs === undefined ? {} : { pssEveryMs })
    const cacheKey = `${precision ?? "float32"} ${prepack!.split(",").filter((f) => f.startsWith("block")).join("")}`
    if (prepack!.split(",").includes("cache") && !filled.has(cacheKey)) {
      filled.add(cacheKey)
      const fill = JSON.parse((await workload(`${prepack},loadonly`)).stdout.trim().split("\n").pop()!)
      cacheFill ??= { seconds: fill.phases.load.seconds, precision: precision ?? "float32" }
    }
    const out = await workload(extraFlags === "" ? prepack! : `${prepack},${extraFlags}`)
    const result = JSON.parse(out.stdout.trim().split("\n").pop()!)
    rows.push({ contender: name, ...result, sampledPeaks: out.peaks, atPssPeak: out.atPssPeak, ...(extraFlags.split(",").includes("series") ? { pssSeries: out.series } : {}), sampler: out.sampler })
  }
  if (modelName === "120m" && !quantisedRun) {
    // Speed side by side in one process (interleaved), so both weight modes see the same load.
    const out = execFileSync(process.execPath, ["--import", "tsx", nodePath.join(here, "speed.ts"), folder, "5"], { encoding: "utf8", cwd: nodePath.join(repoRoot, "tools"), maxBuffer: 1 << 26 })
    speed = JSON.parse(out.trim().split("\n").pop()!)
  }
} finally {
  if (givenFolder === undefined) {
    rmSync(folder, { recursive: true, force: true })
    rmSync(cacheFolder, { recursive: true, force: true })
  }
}

// A batch-1 decode step reads every weight once except the embedding table (one row per token).
// Each contender's own weight bytes (at its precision); the roofline reads them all but the embedding table.
// Its denominator here is the copy bandwidth (bytes read + written per second by a JavaScript copy), lower than
// what onnxruntime's kernels read (bench-llama and bench-quant divide by that): a memory benchmark does not hold
// a 256 MiB reading buffer next to the workload whose peak it measures, so read these fractions as generous.
const weightBytes = rows[0]?.weightBytes ?? 0
const hidden = overrides.hidden_size as number
const rooflineOf = (bytes: number) => (bandwidth * 1e9) / (bytes - 32000 * hidden * 4)
const roofline = rooflineOf(weightBytes)
const table = rows.map((r) => {
  const baseline = r.phases.start.rss
  return {
    contender: r.contender,
    weightBytes: r.weightBytes,
    loadSeconds: r.phases.load.seconds,
    peakGiB: r.peak / 2 ** 30,
    peakOverWeights: r.peak / r.weightBytes,
    peakAboveBaselineOverWeights: (r.peak - baseline) / r.weightBytes,
    // Sampled from outside every 10 ms (so short spikes can be missed): anonymous and file-backed peaks apart.
    sampledPeakAnonAboveBaselineOverWeights: (r.sampledPeaks.anon - r.phases.start.anon) / r.weightBytes,
    sampledPeakFileGiB: r.sampledPeaks.file / 2 ** 30,
    // PSS less the RSS at start (no PSS reading at start; a process's PSS is at most its RSS, so slightly generous).
    sampledPeakPssAboveBaselineOverWeights: (r.sampledPeaks.pss - r.phases.start.rss) / r.weightBytes,
    // The highest PSS reading's anonymous and file-backed parts (above the start's anonymous and file-backed RSS),
    // and the phase it fell in (the first phase marked after it).
    pssPeakAnonAboveBaselineOverWeights: (r.atPssPeak.anon - r.phases.start.anon) / r.weightBytes,
    pssPeakFileAboveBaselineOverWeights: (r.atPssPeak.file - r.phases.start.file) / r.weightBytes,
    pssPeakPhase: Object.entries(r.phases as Record<string, { at: number }>).find(([, p]) => p.at >= r.atPssPeak.at)?.[0] ?? "end",
    afterLoadOverWeights: (r.phases.load.rss - baseline) / r.weightBytes,
    decodeB1: r.decodeTokensPerSecond.batch1,
    decodeB8: r.decodeTokensPerSecond.batch8,
    ...(r.decodeTokensPerSecond.batch16 === undefined ? {} : { decodeB16: r.decodeTokensPerSecond.batch16 }),
    rooflineFractionB1: r.decodeTokensPerSecond.batch1 / rooflineOf(r.weightBytes),
    trainStepSeconds: r.trainStepSeconds,
    ...(r.mixed === undefined ? {} : { mixedSeconds: r.mixed.map((m: { seconds: number }) => m.seconds) }),
    phaseSeconds: Object.fromEntries(Object.entries(r.phases as Record<string, { seconds: number }>).map(([k, v]) => [k, v.seconds]))
  }
})
const report = {
  benchmark: "weights",
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, totalMemGiB: totalmem() / 2 ** 30, freeMemGiBAtStart: freemem() / 2 ** 30, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() },
  settings: { model: modelName, ...(tag ? { tag } : {}), ...(extraFlags ? { extraFlags } : {}), config: overrides, dtype: "float32", malloc: defaultMalloc ? "glibc defaults" : "MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ = 4 GiB", ...(pssEveryMs === undefined ? {} : { pssEveryMs }), contenders: Object.fromEntries(contenders.map((name) => [name, CONTENDERS[name]])), threads: 2, decodeSteps: Number(steps), backend: "backend-onnx cpu (onnxruntime-node, in-thread)" },
  weightBytes,
  ...(cacheFill === undefined ? {} : { quantisedCacheFill: { ...cacheFill, note: "quantising and writing the cache before the cached contenders (their load phase then reads it)" } }),
  memoryBandwidthGBs: bandwidth,
  rooflineDecodeTokensPerSecondBatch1: roofline,
  note: "peakOverWeights counts the whole process (Node + onnxruntime + tokenizer, ~0.35 GiB before loading); peakAboveBaselineOverWeights subtracts the resident memory at start",
  table,
  speedInterleaved: speed === undefined ? null : { ...speed, sharedOverBaked: Object.fromEntries(Object.keys(speed.shared!).map((k) => [k, speed!.shared![k]! / speed!.baked![k]!])) },
  runs: rows
}
console.log(`model ${modelName}: ${(weightBytes / 2 ** 30).toFixed(2)} GiB weights (first contender); copy bandwidth ${bandwidth.toFixed(1)} GB/s → batch-1 roofline ${roofline.toFixed(1)} tok/s; load average ${startLoad.map((l) => l.toFixed(1)).join(" ")} → ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)
console.log("contender          load s  peak GiB  peak/W  (peak-base)/W  (anon peak-base)/W  (PSS peak-base)/W  file peak GiB  decode b1  b8 tok/s  b1/roofline  train step s")
for (const t of table) {
  console.log(`${t.contender.padEnd(17)} ${t.loadSeconds.toFixed(1).padStart(7)} ${t.peakGiB.toFixed(2).padStart(9)} ${t.peakOverWeights.toFixed(2).padStart(7)} ${t.peakAboveBaselineOverWeights.toFixed(2).padStart(14)} ${t.sampledPeakAnonAboveBaselineOverWeights.toFixed(2).padStart(19)} ${t.sampledPeakPssAboveBaselineOverWeights.toFixed(2).padStart(18)} ${t.sampledPeakFileGiB.toFixed(2).padStart(14)} ${t.decodeB1.toFixed(1).padStart(10)} ${t.decodeB8.toFixed(1).padStart(9)} ${(100 * t.rooflineFractionB1).toFixed(0).padStart(11)}% ${t.trainStepSeconds.toFixed(2).padStart(13)}${t.mixedSeconds === undefined ? "" : `  mixed ${t.mixedSeconds.map((x: number) => x.toFixed(1)).join(" / ")} s`}${t.decodeB16 === undefined ? "" : `  b16 ${t.decodeB16.toFixed(1)} tok/s`}  PSS peak in ${t.pssPeakPhase}: anon ${t.pssPeakAnonAboveBaselineOverWeights.toFixed(2)} + file ${t.pssPeakFileAboveBaselineOverWeights.toFixed(2)}`)
}
if (speed !== undefined) {
  console.log("interleaved in one process (best ms):   shared    baked  shared/baked")
  for (const k of Object.keys(speed.shared!)) console.log(`  ${k.padEnd(36)} ${speed.shared![k]!.toFixed(1).padStart(8)} ${speed.baked![k]!.toFixed(1).padStart(8)} ${(speed.shared![k]! / speed.baked![k]!).toFixed(2).padStart(8)}`)
}
const file = nodePath.join(repoRoot, `bench-results/weights-${modelName}${quantisedRun ? "-quantised" : ""}${defaultMalloc ? "-default-malloc" : ""}${tag ? `-${tag}` : ""}.json`)
mkdirSync(nodePath.dirname(file), { recursive: true })
writeFileSync(file, JSON.stringify(report, null, 2) + "\n")
console.log(`wrote ${file}`)
