/**
 * Weight precision benchmark: a synthetic Llama (random weights written by
 * tools/tiny-model, deleted afterwards) loaded at several precisions, each in
 * its own child process (load time, peak RSS, decode tokens/s at batch 1 and
 * 8), against the decode roofline (weight bytes read per token ÷ the bandwidth
 * onnxruntime's kernels read at, measured by each contender around its batch-1
 * timing; the memory copy bandwidth's fraction is kept alongside).
 *
 *   npx tsx tools/bench-quant/bench-quant.ts [--model 120m|1.1b|7b] [--steps 8] [--with-float32] [--keep] [--generate] [--cache [--held]]
 *
 * `120m` compares the two ways of running int8 / int4 weights (MatMulNBits vs
 * DequantizeLinear + MatMul); `1.1b` (TinyLlama-1.1B shape) compares float32 /
 * int8 / int4; `7b` (LLaMA-2-7B shape, written tensor by tensor) loads at int4 and
 * decodes at batch 1 through one program, or with `--generate` through the generation loop
 * (prefill and decode programs at batch 1 and 8; quantised weights bound to the prefills, baked
 * into the decode steps: `quantised_binding: auto`; → quant-7b-generate.json). `--contenders int4:nbits,int4:nbits-int8` replaces a model's
 * contenders (precision:mode pairs; → a `-contenders` suffix on the JSON). `--keep` leaves the model folder (in the
 * temp folder), and its quantised-weight cache with `--cache`, for the next `--keep` run to reuse. `--cache` gives the contenders a quantised-weight
 * cache, as `refine-af run` has under its cache folder, filled by a load-only run of each contender
 * first: the measured run reads it (load = reading the cache) and its decode steps map the codes from
 * the cache file (→ a `-cached` suffix on the JSON; `--held` reads it into memory instead of mapping it:
 * `mapCachedWeights: false`, → `-cached-held`). Mapped int contenders then run four times after the fill:
 * without the backend's pre-packed store, the run that makes the store, one that reads it (`prepackedStore`
 * off / made / read), and one that reads it with prefill reading the cache's codes (`prepackedReads: false`,
 * read-noreads; `--variants made,read` runs only those; asked for by name, `read-grouped` reads the store with the
 * decode steps one session group, `groupServedDecodes`, and `read-head-mapped` with their LM head read as the cache
 * file's bytes, `decodeHead: mapped`). `--default-malloc`: glibc's malloc settings, as
 * `refine-af run` has, instead of the benchmarks' 4 GiB thresholds (→ `-default-malloc`). Each row
 * records its PSS by mapped file after the generation loop and at the end (`pssByFile`, MiB). `--block 64|128`:
 * int8 / int4 scales per 64 / 128 values instead of 32 (`block_size`; its own cache and store; → a `-b<n>` suffix).
 * `--pss-every <ms>`
 * reads PSS at that fixed pace (memory runs: the readings slow decoding). Prints
 * a table; writes bench-results/quant-<model>.json.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { benchOutFile, defaultMallocEnv, memoryBandwidth, pssEveryArg, sampled } from "../gpu-check/bench-env.ts"
import { BENCH_LLAMA_SHAPES } from "../tiny-model/bench-shapes.ts"
import { makeTinyModel } from "../tiny-model/make-tiny-model.ts"

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const repoRoot = nodePath.resolve(here, "../..")
const arg = (flag: string, fallback: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1]! : fallback)
const modelName = arg("--model", "120m")
const STEPS = Number(arg("--steps", "8"))
const THREADS = Math.min(2, cpus().length)

const MODELS: Record<string, { overrides: Record<string, unknown>; contenders: ReadonlyArray<[string, "auto" | "nbits" | "nbits-int8" | "dequantize"]>; decodeOnly?: boolean }> = {
  "120m": {
    overrides: BENCH_LLAMA_SHAPES["120m"],
    contenders: [["float32", "auto"], ["int8", "nbits"], ["int8", "dequantize"], ["int4", "nbits"], ["int4", "dequantize"]]
  },
  "7b": {
    // Only int4 fits this 23 GiB machine with room to spare; one decode program
    // (the prompt is fed token by token) keeps a single baked copy of the quantised weights.
    overrides: BENCH_LLAMA_SHAPES["7b"],
    contenders: [["int4", "auto"]],
    decodeOnly: true
  },
  "1.1b": {
    overrides: BENCH_LLAMA_SHAPES["1.1b"],
    // float32 is left out on the shared 23 GiB machine: its host copy plus one baked copy per
    // compiled program (prefill and decode, per batch bucket) needs ~4.4 GB × 3–5.
    contenders: process.argv.includes("--with-float32") ? [["float32", "auto"], ["int8", "auto"], ["int4", "auto"]] : [["int8", "auto"], ["int4", "auto"]]
  }
}


const named = MODELS[modelName]
if (named === undefined) throw new Error(`--model must be one of ${Object.keys(MODELS).join(", ")}`)
// `--contenders int4:nbits,int4:nbits-int8` replaces the model's contenders (precision:mode pairs).
const contendersArg = process.argv.includes("--contenders") ? arg("--contenders", "") : undefined
const spec = contendersArg === undefined ? named : { ...named, contenders: contendersArg.split(",").map((c) => c.split(":") as [string, "auto" | "nbits" | "nbits-int8" | "dequantize"]) }
const decodeOnly = spec.decodeOnly === true && !process.argv.includes("--generate")
// The cached runs' variants: without the pre-packed store, the run that makes it, one that reads it, and one that reads
// it while bound programs read int4 weights from the cache (`--variants made,read` runs those only).
// Asked for by name only: `read-grouped` reads it with the decode steps one session group (`groupServedDecodes`, as
// before session 38), `read-head-mapped` with the decode steps reading the LM head as the cache file's bytes (`decodeHead: mapped`).
const STORE_VARIANTS: ReadonlyArray<readonly [string, Record<string, string>, "by name"?]> = [["off", { REFINE_AF_BENCH_QUANT_STORE: "0" }], ["made", {}], ["read", {}], ["read-noreads", { REFINE_AF_BENCH_QUANT_READS: "0" }], ["read-grouped", { REFINE_AF_BENCH_QUANT_GROUPED: "1" }, "by name"], ["read-head-mapped", { REFINE_AF_BENCH_QUANT_HEAD: "mapped" }, "by name"]]
const defaultMalloc = process.argv.includes("--default-malloc")
// `--pss-every <ms>`: PSS read from outside at that fixed pace (bench-env `sampled`), so a peak of a second or two is not
// missed (the default pace reads every ~4 s at 7B); the readings take CPU beside the decode, so its speeds are not the plain ones.
const pssEveryMs = pssEveryArg()
const variantsArg = process.argv.includes("--variants") ? arg("--variants", "").split(",") : undefined
const block = process.argv.includes("--block") ? Number(arg("--block", "")) : undefined
if (block !== undefined && block !== 64 && block !== 128) throw new Error("--block must be 64 or 128 (32 is the default)")
const startLoad = loadavg()
const folder = nodePath.join(tmpdir(), "refine-af-bench-quant", modelName)
const keep = process.argv.includes("--keep")
const writeStart = performance.now()
// A folder kept by an earlier `--keep` run of the same model is reused (a 7B one takes ~10 minutes to write).
const reuse = keep && existsSync(nodePath.join(folder, "model.safetensors")) && existsSync(nodePath.join(folder, "tokenizer.json"))
// float16 on disk halves the file; every contender reads it as float32 first, tensor by tensor.
if (!reuse) await makeTinyModel({ out: folder, config: "llama", overrides: spec.overrides, seed: 0, dtype: "F16" })
const writeSeconds = reuse ? null : (performance.now() - writeStart) / 1000
const bandwidth = memoryBandwidth()
const rows: Array<Record<string, number | string>> = []
const cacheRoot = process.argv.includes("--cache") ? `${folder}-quantised` : undefined
// `--held` (with `--cache`): the cache read into memory (`mapCachedWeights: false`) instead of mapped.
const held = cacheRoot !== undefined && process.argv.includes("--held")
try {
  for (const [precision, mode] of spec.contenders) {
    // Its anonymous and file-backed memory sampled from outside (file pages: weights mapped from the cache).
    const contender = (shape: ReadonlyArray<string>, extraEnv: Record<string, string> = {}) =>
      sampled(process.execPath, ["--import", "tsx", nodePath.join(here, "contender.ts"), folder, precision, mode, String(STEPS), String(THREADS), ...shape], {
        cwd: repoRoot,
        // The benchmarks' large malloc thresholds (freed heap memory is then never returned: the anonymous figures are
        // the largest ever held), or with --default-malloc glibc's own, what `refine-af run` gets.
        env: { ...(defaultMalloc ? defaultMallocEnv() : { ...process.env, MALLOC_MMAP_THRESHOLD_: "4294967296", MALLOC_TRIM_THRESHOLD_: "4294967296" }), ...(cacheRoot === undefined ? {} : { REFINE_AF_BENCH_QUANT_CACHE: cacheRoot }), ...(held ? { REFINE_AF_BENCH_QUANT_MAP: "0" } : {}), ...(block === undefined ? {} : { REFINE_AF_BENCH_QUANT_BLOCK: String(block) }), ...extraEnv }
      }, pssEveryMs === undefined ? {} : { pssEveryMs })
    const fill = cacheRoot === undefined || precision === "float32" ? undefined : JSON.parse((await contender(["load-only"])).stdout.trim().split("\n").pop()!) as { loadSeconds: number }
    // With the cache (mapped) and int weights: without the backend's pre-packed store, the run that makes it, and one
    // that reads it, side by side after one fill; otherwise one run.
    const variants: ReadonlyArray<readonly [string | undefined, Record<string, string>]> =
      fill !== undefined && !held ? STORE_VARIANTS.filter(([name, , byName]) => (variantsArg === undefined ? byName === undefined : variantsArg.includes(name))).map(([name, env]) => [name, env] as const) : [[undefined, {}]]
    for (const [store, env] of variants) {
      const out = await contender(decodeOnly ? ["decode-only"] : [], env)
      const row = {
        ...JSON.parse(out.stdout.trim().split("\n").pop()!),
        ...(store === undefined ? {} : { prepackedStore: store }),
        sampledPeakAnonGiB: out.peaks.anon / 2 ** 30,
        sampledPeakFileGiB: out.peaks.file / 2 ** 30,
        sampledPeakPssGiB: out.peaks.pss / 2 ** 30,
        // The highest PSS reading's anonymous and file-backed parts (GiB) and when, in seconds after the child started.
        atPssPeakAnonGiB: out.atPssPeak.anon / 2 ** 30,
        atPssPeakFileGiB: out.atPssPeak.file / 2 ** 30,
        atPssPeakSeconds: (out.atPssPeak.at - (out.series[0]?.at ?? out.atPssPeak.at)) / 1000,
        // What reading its PSS from outside cost (bench-env `sampled`: at most ~2% of one core since session 24).
        samplerPssReads: out.sampler.pssReads,
        samplerPssSeconds: out.sampler.pssSeconds,
        samplerWallSeconds: out.sampler.wallSeconds,
        ...(fill === undefined ? {} : { cacheFillSeconds: fill.loadSeconds })
      } as Record<string, number | string>
      // The roofline: weight bytes per token ÷ what onnxruntime's kernels read per second, measured by the
      // contender around its batch-1 timing. The copy bandwidth (bytes read + written per second by a JavaScript
      // copy, the earlier runs' denominator) measured 21-42 GB/s here where onnxruntime read 38-67: it flattered the fraction.
      const roofline = ((row.readBandwidthGBs as number) * 1e9) / (row.weightBytesPerToken as number)
      const copyRoofline = (bandwidth * 1e9) / (row.weightBytesPerToken as number)
      rows.push({ ...row, rooflineTokensPerSecond: roofline, rooflineFractionBatch1: (row.decodeTokensPerSecondBatch1 as number) / roofline, copyRooflineFractionBatch1: (row.decodeTokensPerSecondBatch1 as number) / copyRoofline })
    }
    console.error(`done ${precision} ${mode}`)
  }
} finally {
  if (!keep) rmSync(folder, { recursive: true, force: true })
  if (cacheRoot !== undefined && !keep) rmSync(cacheRoot, { recursive: true, force: true })
}
const reference = rows.find((row) => row.precision === "float32")
const report = {
  benchmark: `quant-${modelName}`,
  date: new Date().toISOString(),
  // The machine is shared: a load average above the core count means every number here is contended.
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() },
  settings: { model: modelName, config: spec.overrides, promptTokens: 16, decodeSteps: STEPS, path: decodeOnly ? "one decode program, prompt fed token by token, batch 1" : "generation loop: prefill + decode programs, batch 1 and 8", threads: THREADS, backend: "backend-onnx cpu (onnxruntime-node)", diskDtype: "F16", blockSize: block ?? 32, modelWriteSeconds: writeSeconds, quantisedWeightCache: cacheRoot !== undefined, malloc: defaultMalloc ? "glibc defaults" : "MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ = 4 GiB", ...(pssEveryMs === undefined ? {} : { pssEveryMs }), ...(held ? { cachedWeights: "read into memory (mapCachedWeights: false)" } : {}) },
  memoryBandwidthGBs: bandwidth,
  results: rows.map((row) => ({
    ...row,
    vsFloat32: reference === undefined ? null : {
      peakRss: (row.peakRssGiB as number) / (reference.peakRssGiB as number),
      decodeBatch1: (row.decodeTokensPerSecondBatch1 as number) / (reference.decodeTokensPerSecondBatch1 as number),
      decodeBatch8: (row.decodeTokensPerSecondBatch8 as number) / (reference.decodeTokensPerSecondBatch8 as number)
    }
  }))
}
console.log(`model ${modelName}: read bandwidth ${rows.map((row) => (row.readBandwidthGBs as number).toFixed(1)).join(" / ")} GB/s (per contender), memory copy bandwidth ${bandwidth.toFixed(1)} GB/s, threads ${THREADS}, load average ${startLoad.map((l) => l.toFixed(1)).join(" ")} → ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)
console.log("precision  matmul     store         load s  peak RSS GiB  anon peak GiB  PSS peak GiB  weight MB/token  b1 tok/s  b8 tok/s  roofline b1  % roofline  b1 vs f32  RSS vs f32")
for (const row of report.results as Array<any>) {
  console.log(`${String(row.precision).padEnd(10)} ${String(row.mode).padEnd(10)} ${String(row.prepackedStore ?? "-").padEnd(12)} ${row.loadSeconds.toFixed(1).padStart(7)} ${row.peakRssGiB.toFixed(2).padStart(13)} ${row.sampledPeakAnonGiB.toFixed(2).padStart(14)} ${row.sampledPeakPssGiB.toFixed(2).padStart(13)} ${(row.weightBytesPerToken / 1e6).toFixed(0).padStart(16)} ${(row.decodeTokensPerSecondBatch1?.toFixed(2) ?? "-").padStart(9)} ${(row.decodeTokensPerSecondBatch8?.toFixed(2) ?? "-").padStart(9)} ${row.rooflineTokensPerSecond.toFixed(2).padStart(12)} ${(100 * row.rooflineFractionBatch1).toFixed(0).padStart(10)}% ${(row.vsFloat32?.decodeBatch1.toFixed(2) ?? "-").padStart(10)} ${(row.vsFloat32?.peakRss.toFixed(2) ?? "-").padStart(11)}`)
}
const outFile = benchOutFile(nodePath.join(repoRoot, `bench-results/quant-${modelName}${spec.decodeOnly === true && !decodeOnly ? "-generate" : ""}${cacheRoot !== undefined ? "-cached" : ""}${held ? "-held" : ""}${defaultMalloc ? "-default-malloc" : ""}${block === undefined ? "" : `-b${block}`}${contendersArg === undefined ? "" : "-contenders"}.json`))
mkdirSync(nodePath.dirname(outFile), { recursive: true })
writeFileSync(outFile, JSON.stringify(report, null, 2) + "\n")
console.log(`wrote ${outFile}`)
