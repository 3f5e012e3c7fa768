/**
 * Llama decode/prefill benchmark: our compute core (onnxruntime CPU through
 * backend-onnx) against the same model in PyTorch CPU (a simple KV-cache
 * loop, bench_llama_torch.py), side by side in one run, plus the decode
 * roofline (weight bytes per token ÷ the bandwidth onnxruntime's kernels read at: strict, the
 * largest reading of a model's run; paired, each round against the readings taken around its
 * decode, the median round), with our
 * variants side by side: KV cache in host arrays vs sliding device tensors,
 * backend fusions on vs off, weight-left products on vs off, transposed copies of a
 * short-K vocabulary head on vs off, shared vs baked weights, decode steps of 4+ rows baked vs
 * on the mapped file,
 * greedy vs sampled decoding.
 *
 *   npx tsx tools/bench-llama/bench-llama.ts [--quick]
 *
 * Prints a table and writes bench-results/llama.json at the repository root.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import {
  cacheBucket,
  generateTokens,
  loadLlama,
  makeLlamaRuntime,
  zeroCaches,
  type LlamaRuntime
} from "@refine-af/model-llama"
import { leftPadRows, loadModelFolder, loadWeights, makeStepFeeds, openWeights, parameterCount } from "@refine-af/models"
import type { BackendService, HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import { median } from "../bench-compute/timing.ts"
import { backendReadBandwidth, benchOutFile, benchProvider, memoryBandwidth } from "../gpu-check/bench-env.ts"
import { BENCH_LLAMA_SHAPES } from "../tiny-model/bench-shapes.ts"
import { makeTinyModel } from "../tiny-model/make-tiny-model.ts"

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const repoRoot = nodePath.resolve(here, "../..")
const quick = process.argv.includes("--quick")
const PROMPT = 128
const STEPS = quick ? 8 : 32
const BATCHES = [1, 8]
const THREADS = Math.min(2, cpus().length)
/** The python with torch for the side-by-side baseline (Debian's python3-torch here; a GPU machine's venv there). */
const TORCH_PYTHON = process.env["REFINE_AF_TORCH_PYTHON"] ?? "/usr/bin/python3"
/** Why the baseline is missing, per model (empty when it ran). */
const torchProblems: Array<string> = []
const ROUNDS = 3

const MODELS = [
  { name: "llama-30m", overrides: BENCH_LLAMA_SHAPES["30m"] },
  { name: "llama-120m", overrides: BENCH_LLAMA_SHAPES["120m"] }
]

/** Best of `repeats` wall-clock seconds of an effect (after the caller's warm-up). */
const bestSeconds = <A, E>(effect: Effect.Effect<A, E>, repeats: number) =>
  Effect.gen(function* () {
    let best = Infinity
    for (let i = 0; i < repeats; i++) {
      const start = performance.now()
      yield* effect
      best = Math.min(best, (performance.now() - start) / 1000)
    }
    return best
  })


const randomIds = (rows: number, length: number, seed: number) =>
  Array.from({ length: rows }, (_, r) => Array.from({ length }, (_, i) => ((r + 1) * 7919 + i * 104729 + seed) % 1000))

/** Greedy decoding unless `sampling` gives a temperature (then every request samples, seeded). */
const measureOurs = (runtime: LlamaRuntime, sampling?: { readonly temperature: number }) =>
  Effect.gen(function* () {
    const cache = cacheBucket(PROMPT + STEPS + 1, 2048)
    const shape = { batch: 1, length: PROMPT, cache }
    const prefill = yield* runtime.executable(shape, "last-logits")
    const feeds = { ...makeStepFeeds(runtime.config, runtime.frequencies, shape, leftPadRows(randomIds(1, PROMPT, 1), PROMPT, 0, cache), 0), ...zeroCaches(runtime.config, 1, cache) }
    const runPrefill = Effect.flatMap(runtime.run(prefill, feeds), (out) => Effect.forEach(Object.values(out), (t) => Effect.ignore(runtime.backend.release(t)), { discard: true }))
    yield* runPrefill
    const prefillSeconds = yield* bestSeconds(runPrefill, 3)
    const result: Record<string, number> = { prefillTokensPerSecond: PROMPT / prefillSeconds }
    const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 2048 }
    for (const batch of BATCHES) {
      const params = (maxNewTokens: number, row: number) => (sampling ? { maxNewTokens, temperature: sampling.temperature, seed: row + 1 } : { maxNewTokens, temperature: 0 })
      const requests = (maxNewTokens: number) => randomIds(batch, PROMPT, 2).map((promptIds, row) => ({ promptIds, params: params(maxNewTokens, row) }))
      // Warm-up compiles the prefill and decode programs of this bucket.
      yield* generateTokens(runtime, requests(STEPS + 1), options)
      const prefillOnly = yield* bestSeconds(generateTokens(runtime, requests(1), options), 3)
      const full = yield* bestSeconds(generateTokens(runtime, requests(STEPS + 1), options), 3)
      result[`decodeTokensPerSecondBatch${batch}`] = (batch * STEPS) / (full - prefillOnly)
      // The same decode program run bare, back to back on fixed feeds (what generation would reach with no
      // per-token work of its own: feeds, downloads, cache writes, row bookkeeping), host caches only.
      if ((yield* runtime.kvCache) === "host" && sampling === undefined) {
        const step = { batch, length: 1, cache }
        const decode = yield* runtime.executable(step, "last-logits", undefined, "append")
        const rows = Array.from({ length: batch }, () => ({ tokens: [5], positions: [PROMPT], cachePositions: Array.from({ length: cache }, (_, i) => (i < PROMPT ? i : -1)) }))
        // A buffer of its own per layer's keys and values, as generation's host caches (zeroCaches shares one,
        // which would stay in the CPU caches and flatter the bare step at batch 8).
        const caches = Object.fromEntries(Object.entries(zeroCaches(runtime.config, batch, cache) as Record<string, HostTensor>).map(([name, t]) => [name, { ...t, data: new Float32Array(t.data.length) }]))
        const stepFeeds = { ...makeStepFeeds(runtime.config, runtime.frequencies, step, rows, 0), ...caches }
        const outputs = decode.outputs.map((o) => o.name).filter((name) => name !== "logits")
        const bare = Effect.gen(function* () {
          for (let i = 0; i < STEPS; i++) {
            const out = yield* runtime.run(decode, stepFeeds, { outputs })
            for (const tensor of Object.values(out)) yield* Effect.ignore(runtime.backend.release(tensor))
          }
        })
        result[`bareDecodeTokensPerSecondBatch${batch}`] = (batch * STEPS) / (yield* bestSeconds(bare, 3))
      }
    }
    return result
  })

const metricNames = ["prefillTokensPerSecond", ...BATCHES.map((b) => `decodeTokensPerSecondBatch${b}`)]
const pick = (r: Record<string, number>) => Object.fromEntries(metricNames.map((m) => [m, r[m]!]))
const ratios = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(metricNames.map((m) => [m, a[m]! / b[m]!]))

const main = Effect.gen(function* () {
  const startLoad = loadavg()
  const bandwidth = memoryBandwidth()
  const backend = yield* makeOnnxBackend({ provider: benchProvider(), threads: THREADS, worker: false, float16Weights: false })
  // The same compiler with its subgraph fusions (RMSNorm, rotary embeddings) off: what the fusions buy, side by side.
  const unfusedBackend = yield* makeOnnxBackend({ provider: benchProvider(), threads: THREADS, worker: false, float16Weights: false, fuse: false })
  // Shared weights with x·Wᵀ kept as is at 4-32 rows (no weight-left products): what streaming the bound weight buys at batch 8.
  const plainBackend = yield* makeOnnxBackend({ provider: benchProvider(), threads: THREADS, worker: false, float16Weights: false, weightLeft: false })
  // Shared weights with no [K, N] copy of the vocabulary head at 1-3 rows: what the copy buys at batch 1.
  const noCopiesBackend = yield* makeOnnxBackend({ provider: benchProvider(), threads: THREADS, worker: false, float16Weights: false, transposedCopies: false })
  // The AVX2 kernels' rule forced (decode steps of 4+ rows read the mapped file with weight-left products), whatever this
  // CPU's: beside mappedCache, what baking every decode step buys where the default bakes them (AVX-512; identical elsewhere).
  const wideSharedBackend = yield* makeOnnxBackend({ provider: benchProvider(), threads: THREADS, worker: false, float16Weights: false, prefersBoundFromRows: 4 })
  // Where this backend says to read bound weights rather than bake them: the decode step rows, by inner size (the models' hidden sizes, 1.1B's).
  const prefersBoundAtRows = (b: BackendService) => Object.fromEntries([384, 768, 2048].map((k) => [k, [1, 2, 3, 4, 8, 16, 32, 64].filter((rows) => b.prefersBound?.(rows, k) === true)]))
  // The roofline's denominator: what onnxruntime's kernels read per second here, with the same threads (a decode step only reads its weights).
  // Measured before and after each model's rounds; the larger one counts (a reading taken while the machine is busy
  // would make the roofline too easy to reach).
  const readings: Array<number> = [yield* backendReadBandwidth(backend)]
  const rows: Array<Record<string, unknown>> = []
  for (const spec of MODELS) {
    const folder = nodePath.join(tmpdir(), "refine-af-bench-llama", spec.name)
    yield* Effect.promise(() => makeTinyModel({ out: folder, config: "llama", overrides: spec.overrides, seed: 0 }))
    const model = yield* loadModelFolder(folder)
    const weights = yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeights(source, model.config, folder)))
    // What `refine-af run` loads on the CPU: the weights mapped from a float32 copy in a fresh weight cache, the decode
    // steps baking them with onnxruntime's pre-packed forms made once into the backend's store (weight_mode decode by default).
    const cacheRoot = `${folder}-cache`
    rmSync(cacheRoot, { recursive: true, force: true })
    const cached = yield* loadLlama(folder, backend, { contextLength: 2048, precision: { precision: "float32", cacheRoot } })
    const cachedWideShared = yield* loadLlama(folder, wideSharedBackend, { contextLength: 2048, precision: { precision: "float32", cacheRoot } })
    const runtimes = {
      ours: makeLlamaRuntime(backend, model.config, weights, { contextLength: 2048, padTokenId: 0, kvCache: "host" }),
      // The same decode with the cache kept as sliding backend tensors (the device-resident path).
      sliding: makeLlamaRuntime(backend, model.config, weights, { contextLength: 2048, padTokenId: 0, kvCache: "device" }),
      unfused: makeLlamaRuntime(unfusedBackend, model.config, weights, { contextLength: 2048, padTokenId: 0, kvCache: "host" }),
      plain: makeLlamaRuntime(plainBackend, model.config, weights, { contextLength: 2048, padTokenId: 0, kvCache: "host" }),
      noCopies: makeLlamaRuntime(noCopiesBackend, model.config, weights, { contextLength: 2048, padTokenId: 0, kvCache: "host" }),
      // Weights baked into each program (a private, pre-packed copy per session) instead of one shared copy.
      baked: makeLlamaRuntime(backend, model.config, weights, { contextLength: 2048, padTokenId: 0, kvCache: "host", weightMode: "baked" }),
      // Shared weights plus one baked copy for the decode steps, one session group (`weight_mode: decode`).
      decodeWeights: makeLlamaRuntime(backend, model.config, weights, { contextLength: 2048, padTokenId: 0, kvCache: "host", weightMode: "decode" }),
      mappedCache: cached.runtime,
      mappedCacheWideShared: cachedWideShared.runtime
    }
    // Rounds over all variants, best per metric: this shared machine drifts by 10-20% within minutes,
    // so variants measured one after the other would compare different minutes.
    const best: Record<string, Record<string, number>> = {}
    const keep = (name: string, result: Record<string, number>) => {
      const kept = (best[name] ??= {})
      for (const [metric, value] of Object.entries(result)) kept[metric] = Math.max(kept[metric] ?? 0, value)
    }
    // Each round's batch-1 decode of ours is paired with read-bandwidth readings taken just before and after it
    // (the larger counts): the machine's bandwidth drifts by 1.5x within minutes, so a fraction against a reading
    // from another minute says as much about the neighbours as about the decode.
    const paired: Array<{ readonly reading: number; readonly batch1: number; readonly batch8: number }> = []
    // The same pairing for `weight_mode: decode` (its readings stay out of the strict denominator's list).
    const pairedDecode: Array<{ readonly reading: number; readonly batch1: number; readonly batch8: number }> = []
    // And for the weights mapped from the cache.
    const pairedMapped: Array<{ readonly reading: number; readonly batch1: number; readonly batch8: number }> = []
    for (let round = 0; round < (quick ? 1 : ROUNDS); round++) {
      for (const [name, runtime] of Object.entries(runtimes)) {
        const pairs = name === "ours" ? paired : name === "decodeWeights" ? pairedDecode : name === "mappedCache" ? pairedMapped : undefined
        const before = pairs !== undefined ? yield* backendReadBandwidth(backend) : 0
        const result = yield* measureOurs(runtime)
        keep(name, result)
        if (pairs !== undefined) {
          const after = yield* backendReadBandwidth(backend)
          if (name === "ours") readings.push(before, after)
          pairs.push({ reading: Math.max(before, after), batch1: result.decodeTokensPerSecondBatch1!, batch8: result.decodeTokensPerSecondBatch8! })
        }
      }
      // The same decode sampling at temperature 1: every step then reads its [batch, vocab] logits.
      keep("sampled", yield* measureOurs(runtimes.ours, { temperature: 1 }))
    }
    const { ours, sliding, unfused, plain, noCopies, baked, decodeWeights, mappedCache, mappedCacheWideShared, sampled } = best as Record<keyof typeof runtimes | "sampled", Record<string, number>>
    readings.push(yield* backendReadBandwidth(backend))
    // The strict denominator: the largest reading of this model's run (its first reading is the one before it).
    const readBandwidth = Math.max(...readings.slice(-(2 * paired.length + 2)))
    // PyTorch side by side (CPU). Without it (no python3-torch, e.g. on a GPU machine whose python lacks it: set
    // REFINE_AF_TORCH_PYTHON) the run still reports ours, with why the baseline is missing.
    let torch: Record<string, number> | undefined
    try {
      torch = JSON.parse(execFileSync(TORCH_PYTHON, [nodePath.join(here, "bench_llama_torch.py"), folder, String(PROMPT), String(STEPS), BATCHES.join(","), String(THREADS)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n").pop()!) as Record<string, number>
    } catch (error) {
      torchProblems.push(`${spec.name}: ${TORCH_PYTHON} bench_llama_torch.py failed (${String((error as { stderr?: string }).stderr ?? error).trim().split("\n").pop()})`)
    }
    const params = parameterCount(model.config)
    // A decode step reads every weight once, except the embedding table (one row per token).
    const weightBytesPerToken = (params - model.config.vocabSize * model.config.hiddenSize) * 4
    const rooflineTokensPerSecond = (readBandwidth * 1e9) / weightBytesPerToken
    rows.push({
      model: spec.name,
      parameters: params,
      weightBytesPerToken,
      readBandwidthGBs: readBandwidth,
      ours,
      torch,
      ...(torch !== undefined ? { oursOverTorch: Object.fromEntries(metricNames.map((m) => [m, ours[m]! / torch[m]!])) } : {}),
      slidingCache: { decodeTokensPerSecondBatch1: sliding.decodeTokensPerSecondBatch1, decodeTokensPerSecondBatch8: sliding.decodeTokensPerSecondBatch8 },
      hostCacheOverSliding: Object.fromEntries(BATCHES.map((b) => [`decodeTokensPerSecondBatch${b}`, ours[`decodeTokensPerSecondBatch${b}`]! / sliding[`decodeTokensPerSecondBatch${b}`]!])),
      unfused: pick(unfused),
      fusedOverUnfused: ratios(ours, unfused),
      plainMatMul: pick(plain),
      weightLeftOverPlain: ratios(ours, plain),
      noTransposedCopies: pick(noCopies),
      transposedCopiesOverNone: ratios(ours, noCopies),
      bakedWeights: pick(baked),
      sharedOverBaked: ratios(ours, baked),
      decodeWeights: pick(decodeWeights),
      decodeWeightsOverShared: ratios(decodeWeights, ours),
      mappedCache: pick(mappedCache),
      mappedCacheOverShared: ratios(mappedCache, ours),
      mappedCacheBatch8OverBatch1: mappedCache.decodeTokensPerSecondBatch8! / mappedCache.decodeTokensPerSecondBatch1!,
      mappedCacheWideShared: pick(mappedCacheWideShared),
      mappedCacheOverWideShared: ratios(mappedCache, mappedCacheWideShared),
      // Greedy steps fetch each row's argmax; sampled ones its logits (and sample on the host).
      sampledDecode: { decodeTokensPerSecondBatch1: sampled.decodeTokensPerSecondBatch1, decodeTokensPerSecondBatch8: sampled.decodeTokensPerSecondBatch8 },
      greedyOverSampled: Object.fromEntries(BATCHES.map((b) => [`decodeTokensPerSecondBatch${b}`, ours[`decodeTokensPerSecondBatch${b}`]! / sampled[`decodeTokensPerSecondBatch${b}`]!])),
      batch8OverBatch1: ours.decodeTokensPerSecondBatch8! / ours.decodeTokensPerSecondBatch1!,
      // The same ratio within each round (both batches measured a minute apart at most), the median round.
      batch8OverBatch1Paired: median(paired.map((p) => p.batch8 / p.batch1)),
      // Generation's decode rate over the same program run bare (1 = no per-token cost outside the step).
      loopOverBare: Object.fromEntries(BATCHES.map((b) => [`decodeTokensPerSecondBatch${b}`, ours[`decodeTokensPerSecondBatch${b}`]! / ours[`bareDecodeTokensPerSecondBatch${b}`]!])),
      // Batch 8 leaves the memory roofline: 2 FLOPs per weight per token (compare with the MatMul peak in compute.json).
      batch8GflopsPerSecond: (2 * weightBytesPerToken / 4 * ours.decodeTokensPerSecondBatch8!) / 1e9,
      roofline: {
        decodeTokensPerSecondBatch1: rooflineTokensPerSecond,
        oursFraction: ours.decodeTokensPerSecondBatch1! / rooflineTokensPerSecond,
        // Per round: that round's batch-1 rate over the roofline of the readings taken around it; the median round.
        oursFractionPaired: median(paired.map((p) => (p.batch1 * weightBytesPerToken) / (p.reading * 1e9))),
        decodeWeightsFractionPaired: median(pairedDecode.map((p) => (p.batch1 * weightBytesPerToken) / (p.reading * 1e9))),
        decodeWeightsBatch8OverBatch1Paired: median(pairedDecode.map((p) => p.batch8 / p.batch1)),
        mappedCacheFractionPaired: median(pairedMapped.map((p) => (p.batch1 * weightBytesPerToken) / (p.reading * 1e9))),
        mappedCacheBatch8OverBatch1Paired: median(pairedMapped.map((p) => p.batch8 / p.batch1)),
        mappedCachePairedRounds: pairedMapped.map((p) => ({ readBandwidthGBs: p.reading, decodeTokensPerSecondBatch1: p.batch1, fraction: (p.batch1 * weightBytesPerToken) / (p.reading * 1e9), batch8OverBatch1: p.batch8 / p.batch1 })),
        pairedRounds: paired.map((p) => ({ readBandwidthGBs: p.reading, decodeTokensPerSecondBatch1: p.batch1, fraction: (p.batch1 * weightBytesPerToken) / (p.reading * 1e9), batch8OverBatch1: p.batch8 / p.batch1 })),
        ...(torch !== undefined ? { torchFraction: torch.decodeTokensPerSecondBatch1! / rooflineTokensPerSecond } : {}),
        // The same against the copy bandwidth (earlier runs' denominator).
        oursFractionOfCopyRoofline: (ours.decodeTokensPerSecondBatch1! * weightBytesPerToken) / (bandwidth * 1e9)
      }
    })
  }
  const report = {
    benchmark: "llama",
    date: new Date().toISOString(),
    // The machine is shared: a load average above the core count means the numbers (ours and torch alike) are contended.
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() },
    settings: { prefersBoundAtRows: prefersBoundAtRows(backend), rounds: quick ? 1 : ROUNDS, promptTokens: PROMPT, decodeSteps: STEPS, batches: BATCHES, threads: THREADS, dtype: "float32", backend: `backend-onnx ${benchProvider()} (onnxruntime-node)`, kvCache: "ours: host arrays written in place (the CPU default); slidingCache: the device-resident path on the same CPU",
      variants: "ours: shared weights (one copy for all programs), fused RMSNorm and rotary embeddings, weight-left products (W·xᵀ)ᵀ at 4-32 rows (2-32 at K >= 1024 with AVX-512 kernels); unfused: the same with backend fusions off; plainMatMul: the same with x·Wᵀ at every row count (weightLeft off); noTransposedCopies: the same without the [K, N] copy of a large short-K weight (the 30M model's vocabulary head) read at 1-3 rows (transposedCopies off); bakedWeights: weights baked into each program (onnxruntime pre-packs a private copy per session); decodeWeights: weight_mode decode (shared, plus one baked copy the decode steps share as one session group); mappedCache: loadLlama with a weight cache, as refine-af run loads on the CPU (every weight mapped from a float32 copy in the cache, decode steps baking them with pre-packed forms from the backend's store: weight_mode decode by default; decode steps of the widths the backend's prefersBound says to bake, see settings.prefersBoundAtRows: rows by inner size K); mappedCacheWideShared: the same with prefersBoundFromRows 4 (decode steps of 4+ rows read the mapped file, the AVX2 kernels' rule); sampledDecode: ours sampling at temperature 1 (steps read their logits; greedy steps read each row's argmax); bare: ours' decode program run back to back on fixed feeds, no generation loop around it", baseline: "PyTorch CPU, simple KV-cache loop" },
    memoryBandwidthGBs: bandwidth,
    readBandwidthReadingsGBs: readings,
    ...(torchProblems.length > 0 ? { torchMissing: torchProblems } : {}),
    results: rows
  }
  console.log(`read bandwidth readings (onnxruntime row sum; the strict roofline takes the largest of each model's run, the paired one the two around each round's decode): ${readings.map((r) => r.toFixed(1)).join(", ")} GB/s, copy bandwidth: ${bandwidth.toFixed(1)} GB/s, threads ${THREADS}, load average ${startLoad.map((l) => l.toFixed(1)).join(" ")} → ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)
  console.log("model        metric                      ours      torch   ours/torch")
  for (const problem of torchProblems) console.log(`no PyTorch baseline: ${problem}`)
  for (const row of rows as Array<any>) {
    for (const metric of metricNames) {
      console.log(`${row.model.padEnd(12)} ${metric.padEnd(26)} ${row.ours[metric].toFixed(1).padStart(8)} ${(row.torch?.[metric]?.toFixed(1) ?? "n/a").padStart(10)} ${(row.oursOverTorch?.[metric]?.toFixed(2) ?? "n/a").padStart(10)}`)
    }
    console.log(`${row.model.padEnd(12)} KV cache in host arrays vs sliding tensors: b1 ${row.hostCacheOverSliding.decodeTokensPerSecondBatch1.toFixed(2)}x, b8 ${row.hostCacheOverSliding.decodeTokensPerSecondBatch8.toFixed(2)}x; b8/b1 ${row.batch8OverBatch1.toFixed(2)}x`)
    console.log(`${row.model.padEnd(12)} fused/unfused (RMSNorm, rotary as one kernel each): b1 ${row.fusedOverUnfused.decodeTokensPerSecondBatch1.toFixed(2)}x, b8 ${row.fusedOverUnfused.decodeTokensPerSecondBatch8.toFixed(2)}x; shared/baked weights: b1 ${row.sharedOverBaked.decodeTokensPerSecondBatch1.toFixed(2)}x, b8 ${row.sharedOverBaked.decodeTokensPerSecondBatch8.toFixed(2)}x; weight-left/plain b8 ${row.weightLeftOverPlain.decodeTokensPerSecondBatch8.toFixed(2)}x; transposed copies/none b1 ${row.transposedCopiesOverNone.decodeTokensPerSecondBatch1.toFixed(2)}x; greedy/sampled b1 ${row.greedyOverSampled.decodeTokensPerSecondBatch1!.toFixed(2)}x, b8 ${row.greedyOverSampled.decodeTokensPerSecondBatch8!.toFixed(2)}x`)
    console.log(`${row.model.padEnd(12)} generation loop / bare decode step: b1 ${row.loopOverBare.decodeTokensPerSecondBatch1.toFixed(2)}x, b8 ${row.loopOverBare.decodeTokensPerSecondBatch8.toFixed(2)}x`)
    console.log(`${row.model.padEnd(12)} roofline decode b1 ${row.roofline.decodeTokensPerSecondBatch1.toFixed(1)} tok/s (${row.readBandwidthGBs.toFixed(1)} GB/s, the run's largest reading): ours ${(100 * row.roofline.oursFraction).toFixed(1)}%, torch ${row.roofline.torchFraction !== undefined ? `${(100 * row.roofline.torchFraction).toFixed(1)}%` : "n/a"}; paired per round (median): ours ${(100 * row.roofline.oursFractionPaired).toFixed(1)}% [${row.roofline.pairedRounds.map((p: any) => `${(100 * p.fraction).toFixed(0)}% of ${p.readBandwidthGBs.toFixed(0)} GB/s`).join(", ")}], b8/b1 ${row.batch8OverBatch1Paired.toFixed(2)}x`)
    console.log(`${row.model.padEnd(12)} weight_mode decode (decode steps on one baked copy): b1 ${row.decodeWeights.decodeTokensPerSecondBatch1.toFixed(1)} tok/s (${row.decodeWeightsOverShared.decodeTokensPerSecondBatch1.toFixed(2)}x shared), b8 ${row.decodeWeights.decodeTokensPerSecondBatch8.toFixed(1)} (${row.decodeWeightsOverShared.decodeTokensPerSecondBatch8.toFixed(2)}x); paired roofline (median) ${(100 * row.roofline.decodeWeightsFractionPaired).toFixed(1)}%, b8/b1 ${row.roofline.decodeWeightsBatch8OverBatch1Paired.toFixed(2)}x`)
    console.log(`${row.model.padEnd(12)} weights mapped from the cache (refine-af run's default): b1 ${row.mappedCache.decodeTokensPerSecondBatch1.toFixed(1)} tok/s (${row.mappedCacheOverShared.decodeTokensPerSecondBatch1.toFixed(2)}x shared), b8 ${row.mappedCache.decodeTokensPerSecondBatch8.toFixed(1)} (${row.mappedCacheOverShared.decodeTokensPerSecondBatch8.toFixed(2)}x); paired roofline (median) ${(100 * row.roofline.mappedCacheFractionPaired).toFixed(1)}% [${row.roofline.mappedCachePairedRounds.map((p: any) => `${(100 * p.fraction).toFixed(0)}% of ${p.readBandwidthGBs.toFixed(0)} GB/s`).join(", ")}], b8/b1 ${row.roofline.mappedCacheBatch8OverBatch1Paired.toFixed(2)}x`)
    console.log(`${row.model.padEnd(12)} the same with decode steps of 4+ rows on the mapped file (prefersBoundFromRows 4; this CPU's default, rows by inner size: ${JSON.stringify(report.settings.prefersBoundAtRows)}): b8 ${row.mappedCacheWideShared.decodeTokensPerSecondBatch8.toFixed(1)} tok/s; default/that ${row.mappedCacheOverWideShared.decodeTokensPerSecondBatch8.toFixed(2)}x at b8, ${row.mappedCacheOverWideShared.decodeTokensPerSecondBatch1.toFixed(2)}x at b1`)
  }
  // A quick run writes JSON only where asked to (REFINE_AF_BENCH_OUT: tools/gpu-check), never over bench-results/llama.json.
  if (!quick || process.env["REFINE_AF_BENCH_OUT"] !== undefined) {
    const out = benchOutFile(nodePath.join(repoRoot, "bench-results/llama.json"))
    mkdirSync(nodePath.dirname(out), { recursive: true })
    writeFileSync(out, JSON.stringify(report, null, 2) + "\n")
    console.log(`wrote ${out}`)
  }
})

Effect.runPromise(Effect.scoped(main)).catch((error) => {
  console.error(error)
  process.exit(1)
})
