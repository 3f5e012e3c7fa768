/**
 * One contender of the weight-memory benchmark, run in its own process so
 * peak resident memory (VmHWM) is its own: load a model folder, then
 * generate (two batch buckets), score, one LoRA policy step and a
 * reference (adapter-off) pass — every kind of program a PPO stage compiles.
 *
 *   npx tsx tools/bench-weights/workload.ts <folder> <shared|baked> <flags> [decodeSteps] [float32|int8|int4] [auto|shared|baked]
 *
 * flags (comma-separated): `noprepack`, `arena`, `nostore` (backend settings; `nostore`: no pre-packed store next to
 * the cache, sessions pre-pack in their own memory; `noreads`: bound programs read int4 weights from the cache's codes
 * and scales, not from the decode steps' pre-packed blobs), `checkpoint` (train with gradient checkpointing),
 * `gc` (collect garbage before each phase's reading; needs `node --expose-gc`), `cache` (quantised weights read from
 * and written to the on-disk cache `<folder>-quantised`, as runs with a cache folder do: programs that bake them map
 * the cache file), `loadonly` (stop after loading: fills that cache), `mixed` (then, before scoring, generation as a
 * job has it, twice: 24 requests of 8-48 new tokens through continuous batching at max batch 8, so decode steps of
 * 8, 4, 2 and 1 rows as the queue drains), `bakeall` (backend `prefersBoundFromRows: Infinity`: `prefersBound` never
 * says a bound product is as fast, so `weight_mode: decode` bakes every decode step), `smaps` (report the PSS by mapped
 * file at each phase's end: `phases[name].pssByFile`), `heap` (V8's heap and external memory at each phase's end),
 * `grouped` (`groupServedDecodes`: decode steps whose pre-packed forms the store serves share one session group, as
 * before session 38, instead of a session each), `headmapped` (`decodeHead: mapped`: int decode steps read the LM
 * head as the cache file's bytes), `block64` / `block128` (quantisation blocks of 64 / 128 values, not 32), or
 * `default`.
 *
 * The last two: the frozen weights' precision and, below float32, how the
 * quantised ones reach the programs (`quantisedBinding`).
 *
 * Prints one JSON line: times (s), resident memory after each phase and the
 * peak (bytes), weight bytes, decode tokens/s at batch 1 and 8.
 */
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { generateTokens, loadLlama, scoreSequences, type QuantisedBinding, type WeightMode } from "@refine-af/model-llama"
import { hostByteLength, quantisedBytes } from "@refine-af/tensor"
import { nllObjective } from "@refine-af/training"
import { Effect } from "effect"
import { processMemory, pssByFile } from "../gpu-check/bench-env.ts"

const [folder, mode, flagList, steps, precision = "float32", binding = "auto"] = process.argv.slice(2) as [string, WeightMode | "default", string, string | undefined, "float32" | "int8" | "int4" | undefined, QuantisedBinding | undefined]
const flags = new Set(flagList.split(","))
const DECODE = Number(steps ?? 16)
const PROMPT = 32


const ids = (rows: number, length: number, seed: number) =>
  Array.from({ length: rows }, (_, r) => Array.from({ length }, (_, i) => 3 + (((r + 1) * 7919 + i * 104729 + seed) % 900)))

const seconds = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const value = yield* effect
    return { seconds: (performance.now() - start) / 1000, value }
  })

const main = Effect.gen(function* () {
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 2, worker: false, float16Weights: false, disablePrepacking: flags.has("noprepack"), cpuMemArena: flags.has("arena"), prepackedStore: !flags.has("nostore"), prepackedReads: !flags.has("noreads"), ...(flags.has("bakeall") ? { prefersBoundFromRows: Number.POSITIVE_INFINITY } : {}) })
  const phases: Record<string, { seconds: number; at: number; rss: number; peak: number; pssByFile?: Record<string, number> }> = {}
  const mark = (name: string, s: number) => {
    // `gc` (run under node --expose-gc): collect garbage first, so resident memory shows what is still referenced.
    if (flags.has("gc")) (globalThis as { gc?: () => void }).gc?.()
    // `at` (ms since epoch) places the sampler's PSS peak in a phase; `smaps`: PSS by mapped file at each phase's end.
    // `heap`: V8's own accounting (JS heap, ArrayBuffers, other external memory), to tell JavaScript's part of the anonymous memory from native.
    const { heapTotal, external, arrayBuffers } = process.memoryUsage()
    phases[name] = { seconds: s, at: Date.now(), ...processMemory(), ...(flags.has("smaps") ? { pssByFile: pssByFile() } : {}), ...(flags.has("heap") ? { heapTotal, external, arrayBuffers } : {}) }
  }
  mark("start", 0)
  // `rows16`: generation decodes up to 16 rows together (llama/hf's default since session 25) instead of 8.
  const maxBatch = flags.has("rows16") ? 16 : 8
  // `block64` / `block128`: int8 / int4 scales per 64 or 128 values instead of the default 32.
  const blockSize = flags.has("block128") ? 128 : flags.has("block64") ? 64 : undefined
  const load = yield* seconds(loadLlama(folder, backend, { contextLength: 512, maxBatch, ...(mode === "default" ? {} : { weightMode: mode }), quantisedBinding: binding, ...(flags.has("grouped") ? { groupServedDecodes: true } : {}), ...(flags.has("headmapped") ? { decodeHead: "mapped" as const } : {}), ...(flags.has("cache") ? { digestMemo: `${folder}-quantised/content-ids` } : {}), precision: { precision, ...(blockSize === undefined ? {} : { blockSize }), ...(flags.has("cache") ? { cacheRoot: `${folder}-quantised` } : {}) } }))
  const { runtime, policy } = load.value
  mark("load", load.seconds)
  if (flags.has("loadonly")) return { mode, precision, binding, flags: [...flags], phases }
  // The weight bytes at the chosen precision: float32 ones plus the stored codes and scales.
  const weightBytes = Object.values(runtime.weights).reduce((n, t) => n + hostByteLength(t), 0) + Object.values(runtime.quantised).reduce((n, q) => n + quantisedBytes(q), 0)
  const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 512, maxBatch }
  const requests = (rows: number, maxNewTokens: number) => ids(rows, PROMPT, rows).map((promptIds) => ({ promptIds, params: { maxNewTokens, temperature: 0 } }))
  const decode: Record<string, number> = {}
  for (const batch of maxBatch === 16 ? [1, 8, 16] : [1, 8]) {
    // Warm-up compiles prefill + decode of this bucket; the difference of a long and a 1-token run is decode alone.
    const warm = yield* seconds(generateTokens(runtime, requests(batch, DECODE + 1), options))
    mark(`generate-b${batch}`, warm.seconds)
    // A 1-token run uses a smaller cache bucket, so other programs: compiled by a run of its own first.
    yield* generateTokens(runtime, requests(batch, 1), options)
    const prefillOnly = yield* seconds(generateTokens(runtime, requests(batch, 1), options))
    const full = yield* seconds(generateTokens(runtime, requests(batch, DECODE + 1), options))
    decode[`batch${batch}`] = (batch * DECODE) / Math.max(1e-9, full.seconds - prefillOnly.seconds)
  }
  // `mixed`: uneven budgets through continuous batching (rows finish at different steps; the last ones decode in
  // 4-, 2- and 1-row buckets). Twice: the first run compiles (and may bake) the narrower steps, the second is steady.
  const mixed: Array<{ seconds: number; tokens: number; tokensPerSecond: number }> = []
  if (flags.has("mixed")) {
    const budgets = Array.from({ length: 24 }, (_, i) => 8 + ((i * 17) % 41))
    const mixedRequests = ids(24, PROMPT, 24).map((promptIds, i) => ({ promptIds, params: { maxNewTokens: budgets[i]!, temperature: 0 } }))
    const tokens = budgets.reduce((a, b) => a + b, 0)
    for (const run of [1, 2]) {
      const done = yield* seconds(generateTokens(runtime, mixedRequests, options))
      mark(`generate-mixed-${run}`, done.seconds)
      mixed.push({ seconds: done.seconds, tokens, tokensPerSecond: tokens / done.seconds })
    }
  }
  const score = yield* seconds(scoreSequences(runtime, ids(4, 48, 9).map((seq) => ({ ids: seq, from: 24 })), 8))
  mark("score", score.seconds)
  const session = yield* policy.session({ lora: { rank: 8, alpha: 16, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj"] }, seed: 1, gradientCheckpointing: flags.has("checkpoint") })
  const seqs = ids(2, 48, 5).map((tokens) => ({ tokens, promptLength: 24 }))
  const step = yield* seconds(session.step(nllObjective, seqs, {}, { lr: 1e-4 }))
  mark("train-step", step.seconds)
  const step2 = yield* seconds(session.step(nllObjective, seqs, {}, { lr: 1e-4 }))
  const reference = yield* seconds(session.evaluate(seqs, { reference: true }))
  mark("reference", reference.seconds)
  const logprobs = reference.value[0]!.logprobs.slice(0, 4)
  // `smaps`: where the resident memory is at the end, by mapped file (PSS, MiB; `[anon]` for anonymous memory).
  return { mode, precision, binding, flags: [...flags], weightBytes, phases, decodeTokensPerSecond: decode, ...(mixed.length > 0 ? { mixed } : {}), trainStepSeconds: step2.seconds, peak: processMemory().peak, logprobs }
})

Effect.runPromise(Effect.scoped(main)).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
