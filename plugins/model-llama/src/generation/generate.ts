/**
 * Batched generation on a {@link LlamaRuntime}: requests are grouped into
 * batches, prompts left-padded to a length bucket, one prefill fills a
 * fixed-size KV cache, then one decode step per token. The cache stays a
 * backend tensor between steps; when finished rows leave at most half of the
 * batch active, the batch is compacted to the next smaller bucket so finished
 * rows stop costing compute. `useCache: false` recomputes the whole sequence
 * each step (the reference the cached path is tested against).
 */
import { LanguageModelError, type Generation, type GenerationChunk, type SamplingParams } from "@refine-af/core"
import type { BackendError, BackendFeed, DeviceTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import type { ProgramLora } from "../model/program.ts"
import type { LlamaRuntime } from "../model/runtime.ts"
import { leftPadRows, makeStepFeeds, slideCache, type RowStep } from "../model/step-feeds.ts"
import type { Tokenizer } from "../tokenizer/tokenizer.ts"
import { batchBucket, cacheBucket, lengthBucket } from "./buckets.ts"
import { compactCaches, presentToPast, releaseCaches, zeroCaches, type CacheFeeds } from "./kv-cache.ts"
import { GenerationRow } from "./row.ts"

/** One tokenized request. */
export interface TokenRequest {
  readonly promptIds: ReadonlyArray<number>
  readonly params: SamplingParams
  readonly onChunk?: (chunk: GenerationChunk) => void
}

/** An enabled LoRA adapter: its program layout and its weights as feeds. */
export interface ActiveAdapter {
  readonly lora: ProgramLora
  readonly feeds: Readonly<Record<string, BackendFeed>>
}

/** Options of {@link generateTokens}. */
export interface GenerateOptions {
  readonly tokenizer: Pick<Tokenizer, "decode">
  readonly eosIds: ReadonlySet<number>
  readonly contextLength: number
  /** Most rows decoded together (default 8). */
  readonly maxBatch?: number
  /** KV-cache decoding (default true); false recomputes every step. */
  readonly useCache?: boolean
  readonly adapter?: ActiveAdapter
}

const overflow = (length: number, context: number) =>
  new LanguageModelError({
    reason: "ContextOverflow",
    message: `A prompt of ${length} tokens does not fit the ${context}-token context.`,
    fix: "Shorten the prompt or raise max_context (up to the model's max_position_embeddings)."
  })

/** Generates for every request; results are in request order. */
export const generateTokens = (runtime: LlamaRuntime, requests: ReadonlyArray<TokenRequest>, options: GenerateOptions): Effect.Effect<Array<Generation>, BackendError | LanguageModelError> =>
  Effect.gen(function* () {
    const rows: Array<GenerationRow> = []
    for (const request of requests) {
      if (request.promptIds.length === 0) return yield* Effect.fail(new LanguageModelError({ reason: "InvalidRequest", message: "A prompt tokenized to zero tokens.", fix: "Pass a non-empty prompt." }))
      if (request.promptIds.length >= options.contextLength) return yield* Effect.fail(overflow(request.promptIds.length, options.contextLength))
      const budget = Math.min(request.params.maxNewTokens, options.contextLength - request.promptIds.length)
      rows.push(new GenerationRow(request.promptIds, request.params, budget, options.tokenizer, options.eosIds, request.onChunk))
    }
    const maxBatch = options.maxBatch ?? 8
    for (let start = 0; start < rows.length; start += maxBatch) {
      const batch = rows.slice(start, start + maxBatch).filter((row) => row.finish === null)
      if (batch.length === 0) continue
      if (options.useCache ?? true) yield* cachedLoop(runtime, batch, options)
      else yield* uncachedLoop(runtime, batch, options)
    }
    return rows.map((row) => row.result())
  })

const adapterFeeds = (options: GenerateOptions) => options.adapter?.feeds ?? {}

/** Downloads [batch, vocab] logits and lets each active row sample from its slice. */
const acceptLogits = (runtime: LlamaRuntime, logits: DeviceTensor, slots: ReadonlyArray<GenerationRow | null>) =>
  Effect.gen(function* () {
    const host = yield* runtime.backend.download(logits)
    yield* Effect.ignore(runtime.backend.release(logits))
    const vocab = runtime.config.vocabSize
    const data = host.data as Float32Array
    slots.forEach((row, i) => {
      if (row && row.finish === null) row.accept(data.subarray(i * vocab, (i + 1) * vocab))
    })
  })

const cachedLoop = (runtime: LlamaRuntime, active: ReadonlyArray<GenerationRow>, options: GenerateOptions) =>
  Effect.gen(function* () {
    const { config, padTokenId } = runtime
    const promptLength = lengthBucket(Math.max(...active.map((r) => r.promptIds.length)))
    const cache = cacheBucket(promptLength + Math.max(...active.map((r) => r.budget)), Math.max(options.contextLength, promptLength))
    let batch = batchBucket(active.length)
    let slots: Array<GenerationRow | null> = Array.from({ length: batch }, (_, i) => active[i] ?? null)
    const prefillRows = leftPadRows(active.map((r) => r.promptIds), promptLength, padTokenId, cache)
    const prefillShape = { batch, length: promptLength, cache }
    const prefill = yield* runtime.executable(prefillShape, "last-logits", options.adapter?.lora)
    const out = yield* runtime.run(prefill, {
      ...makeStepFeeds(config, runtime.frequencies, prefillShape, prefillRows, padTokenId),
      ...zeroCaches(config, batch, cache),
      ...adapterFeeds(options)
    })
    let caches: CacheFeeds = presentToPast(config, out)
    let cachePositions = slots.map((_, i) => (prefillRows[i] ? slideCache(prefillRows[i]!, cache) : new Array<number>(cache).fill(-1)))
    yield* acceptLogits(runtime, out.logits!, slots)
    while (slots.some((row) => row !== null && row.finish === null)) {
      const live = slots.flatMap((row, i) => (row !== null && row.finish === null ? [i] : []))
      if (batch > 1 && live.length <= batch / 2) {
        const smaller = batchBucket(live.length)
        const keep = Array.from({ length: smaller }, (_, j) => live[j] ?? live[0]!)
        caches = yield* compactCaches(runtime, caches, batch, keep, cache)
        slots = keep.map((from, j) => (j < live.length ? slots[from]! : null))
        cachePositions = keep.map((from, j) => (j < live.length ? cachePositions[from]! : new Array<number>(cache).fill(-1)))
        batch = smaller
      }
      const steps: Array<RowStep> = slots.map((row, i) =>
        row !== null && row.finish === null
          ? { tokens: [row.lastToken], positions: [row.promptIds.length + row.generated.length - 1], cachePositions: cachePositions[i]! }
          : { tokens: [padTokenId], positions: [-1], cachePositions: cachePositions[i]! }
      )
      const shape = { batch, length: 1, cache }
      const decode = yield* runtime.executable(shape, "last-logits", options.adapter?.lora)
      const next = yield* runtime.run(decode, { ...makeStepFeeds(config, runtime.frequencies, shape, steps, padTokenId), ...caches, ...adapterFeeds(options) })
      yield* releaseCaches(runtime, caches)
      caches = presentToPast(config, next)
      cachePositions = steps.map((step) => slideCache(step, cache))
      yield* acceptLogits(runtime, next.logits!, slots)
    }
    yield* releaseCaches(runtime, caches)
  })

const uncachedLoop = (runtime: LlamaRuntime, rows: ReadonlyArray<GenerationRow>, options: GenerateOptions) =>
  Effect.gen(function* () {
    const { config, padTokenId } = runtime
    // The reference path keeps one batch shape (finished rows ride along) so few programs are compiled.
    const batch = batchBucket(rows.length)
    while (rows.some((row) => row.finish === null)) {
      const sequences = rows.map((row) => [...row.promptIds, ...row.generated])
      const shape = { batch, length: lengthBucket(Math.max(...sequences.map((s) => s.length))), cache: 0 }
      const exe = yield* runtime.executable(shape, "last-logits", options.adapter?.lora)
      const out = yield* runtime.run(exe, {
        ...makeStepFeeds(config, runtime.frequencies, shape, leftPadRows(sequences, shape.length, padTokenId, 0), padTokenId),
        ...adapterFeeds(options)
      })
      yield* acceptLogits(runtime, out.logits!, rows)
    }
  })
