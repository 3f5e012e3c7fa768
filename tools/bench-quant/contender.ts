/**
 * One contender of the quantisation benchmark, run in its own process so its
 * peak RSS is its own: loads a model folder at a precision, runs the
 * generation loop at batch 1 and 8 (prefill + decode programs: the memory
 * figure), then times decode steps alone at batch 1 and 8 on the loop's own
 * decode programs (the prompt fed token by token), prints one JSON line. With
 * `decode-only` the loop is skipped and only batch 1 is timed (one program:
 * one baked copy of quantised weights). The batch-1 timing is paired with
 * read-bandwidth readings of the same backend (the roofline's denominator).
 *
 *   npx tsx tools/bench-quant/contender.ts <folder> <float32|float16|int8|int4> <auto|nbits|nbits-int8|dequantize> <steps> <threads> [decode-only|load-only]
 *
 * `load-only` stops after loading. With REFINE_AF_BENCH_QUANT_CACHE set (bench-quant's `--cache`), the
 * quantised weights are read from / written to that cache root, and mapped from the cache file unless
 * REFINE_AF_BENCH_QUANT_MAP=0 (`--held`); REFINE_AF_BENCH_QUANT_STORE=0 turns the backend's pre-packed store off,
 * REFINE_AF_BENCH_QUANT_READS=0 its reads of int4 weights from the pre-packed blobs (`prepackedReads`),
 * REFINE_AF_BENCH_QUANT_GROUPED=1 makes the decode steps one session group (`groupServedDecodes`),
 * REFINE_AF_BENCH_QUANT_HEAD=mapped has them read the LM head as the cache file's bytes (`decodeHead: mapped`).
 */
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { cacheBucket, cacheKeeper, generateTokens, lengthBucket, loadLlama, type CacheFeeds, type WeightPrecision } from "@refine-af/model-llama"
import { makeStepFeeds, stepNames } from "@refine-af/models"
import { hostByteLength, quantisedBytes } from "@refine-af/tensor"
import { Effect } from "effect"
import { backendReadBandwidth, processMemory, pssByFile } from "../gpu-check/bench-env.ts"

const [folder, precision, mode, stepsArg, threadsArg, shapeArg] = process.argv.slice(2) as [string, WeightPrecision, "nbits" | "dequantize", string, string, string | undefined]
// `decode-only`: batch 1 through a single decode program, the prompt fed token by token (one baked copy of the weights).
const decodeOnly = shapeArg === "decode-only"
const STEPS = Number(stepsArg)
const PROMPT = 16
const BATCHES = [1, 8]

/** Peak and current resident memory of this process (GiB). */
const memory = () => {
  const { rss, peak } = processMemory()
  return { peakRssGiB: peak / 2 ** 30, rssGiB: rss / 2 ** 30 }
}

const randomIds = (rows: number, length: number, seed: number) =>
  Array.from({ length: rows }, (_, r) => Array.from({ length }, (_, i) => ((r + 1) * 7919 + i * 104729 + seed) % 1000))

const main = Effect.gen(function* () {
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: Number(threadsArg), worker: false, float16Weights: false, quantisedMatMul: mode, prepackedStore: process.env["REFINE_AF_BENCH_QUANT_STORE"] !== "0", prepackedReads: process.env["REFINE_AF_BENCH_QUANT_READS"] !== "0" })
  const start = performance.now()
  const cacheRoot = process.env["REFINE_AF_BENCH_QUANT_CACHE"]
  // REFINE_AF_BENCH_QUANT_MAP=0 (bench-quant's `--held`): a cache hit read into memory instead of mapped.
  const mapCachedWeights = process.env["REFINE_AF_BENCH_QUANT_MAP"] !== "0"
  // REFINE_AF_BENCH_QUANT_BLOCK (bench-quant's `--block`): quantisation blocks of that many values instead of 32.
  const blockSize = process.env["REFINE_AF_BENCH_QUANT_BLOCK"] === undefined ? undefined : Number(process.env["REFINE_AF_BENCH_QUANT_BLOCK"])
  const loaded = yield* loadLlama(folder, backend, { contextLength: 256, maxBatch: 8, mapCachedWeights, groupServedDecodes: process.env["REFINE_AF_BENCH_QUANT_GROUPED"] === "1", ...(process.env["REFINE_AF_BENCH_QUANT_HEAD"] === "mapped" ? { decodeHead: "mapped" as const } : {}), precision: { precision, ...(blockSize === undefined ? {} : { blockSize }), ...(cacheRoot === undefined ? {} : { cacheRoot }) } })
  const loadSeconds = (performance.now() - start) / 1000
  if (shapeArg === "load-only") {
    console.log(JSON.stringify({ precision, loadSeconds, quantCache: loaded.quantCache }))
    return
  }
  const afterLoad = memory()
  const { runtime } = loaded
  // What one decode step reads: every weight but the embedding table (one row per token).
  let weightBytesPerToken = Object.values(runtime.quantised).reduce((n, w) => n + quantisedBytes(w), 0)
  for (const [name, w] of Object.entries(runtime.weights)) if (name !== "model.embed_tokens.weight" || runtime.config.tieWordEmbeddings) weightBytesPerToken += hostByteLength(w)
  const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 256 }
  const result: Record<string, number | null> = {}
  // Decode steps alone: `batch` rows through one decode program, each row's prompt fed token by token
  // (those steps warm up), then STEPS timed steps. Timing a prefill + N steps minus a prefill + 1 step
  // instead was swamped by prefill variance once prefills dequantise bound weights (quantised_binding auto).
  // After the generation loop, the timed steps run on the loop's own decode programs (its cache bucket and
  // cache keeper): other shapes would be new programs, and once memory for another baked copy is short
  // (the 7B: 18.8 GiB of 23 after the loop) they share the stored copy — 0.18 tok/s, not what generation runs at.
  const decodeLoop = (batch: number) =>
    Effect.gen(function* () {
      const kvMode = yield* runtime.kvCache
      const cache = decodeOnly ? PROMPT + STEPS + 8 : cacheBucket(lengthBucket(PROMPT) + STEPS + 1, options.contextLength)
      // decode-only keeps session 6's sliding caches (the step returns them whole); after the loop, its own keeper.
      const keeper = cacheKeeper(runtime, decodeOnly ? "device" : kvMode, cache)
      const update = keeper.update
      const shape = { batch, length: 1, cache }
      const exe = yield* runtime.executable(shape, "last-logits", undefined, update)
      const cacheOutputs = Array.from({ length: runtime.config.numLayers }, (_, l) => (update === "slide" ? [stepNames.presentKey(l), stepNames.presentValue(l)] : [stepNames.newKey(l), stepNames.newValue(l)])).flat()
      let caches: CacheFeeds = keeper.fresh(batch)
      let slots = Array.from({ length: batch }, () => new Array<number>(cache).fill(-1))
      const ids = randomIds(batch, PROMPT + STEPS, 2)
      let decodeStart = 0
      for (let position = 0; position < PROMPT + STEPS; position++) {
        if (position === PROMPT) decodeStart = performance.now()
        const steps = ids.map((row, r) => ({ tokens: [row[position]!], positions: [position], cachePositions: slots[r]! }))
        const out = yield* runtime.run(exe, { ...makeStepFeeds(runtime.config, runtime.frequencies, shape, steps, 0), ...caches }, { outputs: ["argmax", ...cacheOutputs] })
        yield* Effect.ignore(runtime.backend.release(out.argmax!))
        const next = yield* keeper.advance(caches, out, steps)
        caches = next.caches
        slots = next.positions
      }
      const tokensPerSecond = (batch * STEPS) / ((performance.now() - decodeStart) / 1000)
      yield* keeper.release(caches)
      return tokensPerSecond
    })
  if (!decodeOnly) {
    // The generation loop (bound prefills, baked decode steps with quantised_binding auto): its peak is the memory figure.
    for (const batch of BATCHES) {
      const requests = (maxNewTokens: number) => randomIds(batch, PROMPT, 2).map((promptIds) => ({ promptIds, params: { maxNewTokens, temperature: 0 } }))
      yield* generateTokens(runtime, requests(STEPS + 1), options)
    }
  }
  const loopMemory = memory()
  // Where the resident memory is, by mapped file (PSS, MiB): after the generation loop and at the end.
  const pssAfterLoop = pssByFile()
  // The roofline's denominator, paired with the batch-1 timing: what this backend's kernels read per second
  // (same threads), the larger of two readings (the machine's bandwidth drifts within minutes). After the
  // generation loop they are taken just before and after the timing; in `decode-only` both come after it and
  // after its memory snapshot, since that timing compiles the only program and its 256 MiB reading buffer
  // (kept resident under the benchmarks' malloc settings) must not count in the peak.
  const before = decodeOnly ? 0 : yield* backendReadBandwidth(backend)
  result.decodeTokensPerSecondBatch1 = yield* decodeLoop(1)
  const timedMemory = memory()
  result.readBandwidthGBs = Math.max(before, yield* backendReadBandwidth(backend), decodeOnly ? yield* backendReadBandwidth(backend) : 0)
  result.decodeTokensPerSecondBatch8 = decodeOnly ? null : yield* decodeLoop(8)
  // The memory figure: after the generation loop, or in `decode-only` after the timing that compiled its program.
  console.log(JSON.stringify({ precision, mode, loadSeconds, rssAfterLoadGiB: afterLoad.rssGiB, ...(decodeOnly ? timedMemory : loopMemory), peakRssWithTimingGiB: memory().peakRssGiB, weightBytesPerToken, ...result, pssByFile: { afterLoop: pssAfterLoop, end: pssByFile() } }))
})

Effect.runPromise(Effect.scoped(main)).catch((error) => {
  console.error(error)
  process.exit(1)
})
