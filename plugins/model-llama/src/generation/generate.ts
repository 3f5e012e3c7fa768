/**
 * Batched generation on a {@link LlamaRuntime}: prompts are left-padded to a
 * length bucket, a prefill fills a fixed-size KV cache, then one decode step
 * per token for the whole batch. The cache stays between steps where the
 * runtime keeps it (host arrays written in place, or device tensors; see
 * `kv-cache.ts`); at bucket boundaries finished rows are dropped and waiting requests
 * spliced in (continuous batching). `useCache: false` recomputes the whole sequence
 * each step (the reference the cached path is tested against).
 */
import { LanguageModelError, type Generation, type GenerationChunk, type SamplingParams } from "@refine-af/core"
import type { BackendError, BackendFeed, Executable } from "@refine-af/tensor"
import { Effect } from "effect"
import type { ProgramLora } from "@refine-af/models"
import type { LlamaRuntime } from "../model/runtime.ts"
import { leftPadRows, makeStepFeeds, type RowStep } from "@refine-af/models"
import type { Tokenizer } from "@refine-af/models"
import { batchBucket, cacheBucket, distinctBy, lengthBucket } from "./buckets.ts"
import { cacheKeeper, cacheUpdateOf, downloadAndRelease, releaseCaches, type CacheFeeds, type CacheKeeper } from "./kv-cache.ts"
import { checkFinite } from "./finite-check.ts"
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
  /**
   * Most rows prefilled together (default `maxBatch`): a prefill's activations grow with rows ×
   * prompt length (attention scores with its square), a decode step's do not, so a wide decode
   * batch can fill through narrower prefills joining one after another.
   */
  readonly maxPrefillRows?: number
  /** KV-cache decoding (default true); false recomputes every step. */
  readonly useCache?: boolean
  readonly adapter?: ActiveAdapter
  /** Host KV caches: downloaded bytes of new keys and values between full garbage collections (default {@link COLLECT_AFTER_BYTES}). */
  readonly collectAfterBytes?: number
}

const overflow = (length: number, context: number) =>
  new LanguageModelError({
    reason: "ContextOverflow",
    message: `A prompt of ${length} tokens does not fit the ${context}-token context.`,
    fix: "Shorten the prompt or raise max_context (up to the model's max_position_embeddings)."
  })

/**
 * A token id the model has no embedding row for (the tokenizer does not match
 * the model: more tokens than config.json's vocab_size), as an error; else
 * undefined. Without it the embedding lookup fails inside the backend with a
 * message about Gather indices.
 */
export const outsideVocabulary = (ids: ReadonlyArray<number>, vocabSize: number): LanguageModelError | undefined => {
  const id = ids.find((t) => !Number.isInteger(t) || t < 0 || t >= vocabSize)
  return id === undefined
    ? undefined
    : new LanguageModelError({
      reason: "InvalidRequest",
      message: `The input has token id ${id}, outside the model's ${vocabSize}-token vocabulary: the tokenizer does not match the model (it has more tokens than config.json's vocab_size).`,
      fix: "Use the tokenizer that was saved with this model (tokenizer.json in its folder), or token ids below vocab_size."
    })
}

/** Rows of requests, checked against the context and the vocabulary; fails on an empty or too-long prompt. */
export const makeRows = (requests: ReadonlyArray<TokenRequest>, options: GenerateOptions, vocabSize: number): Effect.Effect<Array<GenerationRow>, LanguageModelError> =>
  Effect.gen(function* () {
    const rows: Array<GenerationRow> = []
    for (const request of requests) {
      if (request.promptIds.length === 0) return yield* Effect.fail(new LanguageModelError({ reason: "InvalidRequest", message: "A prompt tokenized to zero tokens.", fix: "Pass a non-empty prompt." }))
      const outside = outsideVocabulary(request.promptIds, vocabSize)
      if (outside) return yield* Effect.fail(outside)
      if (request.promptIds.length >= options.contextLength) return yield* Effect.fail(overflow(request.promptIds.length, options.contextLength))
      const budget = Math.min(request.params.maxNewTokens, options.contextLength - request.promptIds.length)
      rows.push(new GenerationRow(request.promptIds, request.params, budget, options.tokenizer, options.eosIds, request.onChunk))
    }
    return rows
  })

/** Generates for every request; results are in request order. */
export const generateTokens = (runtime: LlamaRuntime, requests: ReadonlyArray<TokenRequest>, options: GenerateOptions): Effect.Effect<Array<Generation>, BackendError | LanguageModelError> =>
  Effect.gen(function* () {
    const rows = yield* makeRows(requests, options, runtime.config.vocabSize)
    const maxBatch = options.maxBatch ?? 8
    const pending = rows.filter((row) => row.finish === null)
    if (options.useCache ?? true) {
      yield* runQueue(runtime, { waiting: [...pending] }, options, maxBatch)
    } else {
      for (let start = 0; start < pending.length; start += maxBatch) yield* uncachedLoop(runtime, pending.slice(start, start + maxBatch), options)
    }
    return rows.map((row) => row.result())
  })

/**
 * Rows waiting for a decode loop, shared with whoever adds to it: a loop takes
 * newcomers at its splice points, so requests that arrive while it runs join
 * the running batch. `afterStep` runs after every model call.
 */
export interface RowQueue {
  readonly waiting: Array<GenerationRow>
  readonly afterStep?: () => void
}

/** Decodes until the queue is empty; rows that do not fit one loop's cache wait for the next loop. */
export const runQueue = (runtime: LlamaRuntime, queue: RowQueue, options: GenerateOptions, maxBatch: number): Effect.Effect<void, BackendError | LanguageModelError> =>
  Effect.gen(function* () {
    while (queue.waiting.length > 0) yield* cachedLoop(runtime, queue, options, maxBatch)
  })

/** Whether a row fits a cache of `cache` slots (its prompt bucket plus its budget). */
const fits = (row: GenerationRow, cache: number) => lengthBucket(row.length) + row.remaining <= cache

/** Removes and returns up to `count` waiting rows that fit the cache, oldest first (finished ones are dropped). */
const takeFitting = (waiting: Array<GenerationRow>, cache: number, count: number): Array<GenerationRow> => {
  const taken: Array<GenerationRow> = []
  for (let i = 0; i < waiting.length && taken.length < count;) {
    const row = waiting[i]!
    if (row.finish !== null) waiting.splice(i, 1)
    else if (fits(row, cache)) taken.push(...waiting.splice(i, 1))
    else i++
  }
  return taken
}

const countFitting = (waiting: ReadonlyArray<GenerationRow>, cache: number, limit: number) => {
  let count = 0
  for (const row of waiting) if (row.finish === null && fits(row, cache) && ++count >= limit) break
  return count
}

const adapterFeeds = (options: GenerateOptions) => options.adapter?.feeds ?? {}

/** What a step chose from: every row's logits, or (a greedy step) the model's own argmax and max logit; always the log-sum-exp. */
interface StepChoices {
  readonly logsumexp: Float32Array
  readonly logits?: Float32Array
  readonly argmax?: Float32Array
  readonly maxLogit?: Float32Array
}

/** Outputs a step does not hand on to the cache keeper. */
const choiceOutputs = new Set(["logits", "logsumexp", "argmax", "max_logit"])

const isLiveRow = (row: GenerationRow | null): row is GenerationRow => row !== null && row.finish === null

/** The position of the token a row feeds next (its newest one). */
const nextPosition = (row: GenerationRow): number => row.length - 1

/**
 * Runs one generation step for `slots` and downloads what the rows choose
 * from. When every live row decodes greedily the step fetches only
 * `argmax`, `max_logit` and `logsumexp` per row: the [batch, vocab] logits
 * never reach the host (no copy, no per-step garbage for the JavaScript heap,
 * no host argmax). Otherwise it fetches the logits and the log-sum-exp. A
 * finite log-sum-exp proves a row holds no NaN or +Inf; when it is not, the
 * step is run again for its logits so the error names the first bad value.
 * Returns the remaining outputs (the caches) for the keeper.
 */
const runStep = (runtime: LlamaRuntime, exe: Executable, feeds: Readonly<Record<string, BackendFeed>>, slots: ReadonlyArray<GenerationRow | null>) =>
  Effect.gen(function* () {
    const greedy = slots.every((row) => !isLiveRow(row) || row.greedy)
    const skipped = greedy ? ["logits"] : ["argmax", "max_logit"]
    const wanted = exe.outputs.map((o) => o.name).filter((name) => !skipped.includes(name))
    const out = yield* runtime.run(exe, feeds, { outputs: wanted })
    // A backend that ignores `outputs` returns everything: free what was not asked for.
    for (const [name, tensor] of Object.entries(out)) if (!wanted.includes(name)) yield* Effect.ignore(runtime.backend.release(tensor))
    // The chosen outputs in one backend call (a decode step's per-token cost is mostly such calls).
    const taken = yield* downloadAndRelease(runtime, (greedy ? ["logsumexp", "argmax", "max_logit"] : ["logsumexp", "logits"]).map((name) => out[name]!))
    const logsumexp = taken[0]!
    const choices: StepChoices = greedy ? { logsumexp, argmax: taken[1]!, maxLogit: taken[2]! } : { logsumexp, logits: taken[1]! }
    const caches = Object.fromEntries(Object.entries(out).filter(([name]) => wanted.includes(name) && !choiceOutputs.has(name)))
    const vocab = runtime.config.vocabSize
    for (let i = 0; i < slots.length; i++) {
      if (!isLiveRow(slots[i]!) || Number.isFinite(logsumexp[i]!)) continue
      const logits = choices.logits ?? (yield* downloadAndRelease(runtime, [(yield* runtime.run(exe, feeds, { outputs: ["logits"] })).logits!]))[0]!
      const problem = checkFinite("logits", i, logits.subarray(i * vocab, (i + 1) * vocab)) ?? checkFinite("logsumexp", i, logsumexp.subarray(i, i + 1))
      if (problem) {
        yield* releaseCaches(runtime, caches)
        return yield* problem
      }
    }
    return { caches, choices }
  })

/** Lets each active row take its token: from its logits, or the model's greedy choice; row i reads the step's row `stepRow(i)`. */
const acceptChoices = (runtime: LlamaRuntime, choices: StepChoices, slots: ReadonlyArray<GenerationRow | null>, stepRow: (i: number) => number = (i) => i) => {
  const vocab = runtime.config.vocabSize
  for (let i = 0; i < slots.length; i++) {
    const row = slots[i]!
    if (!isLiveRow(row)) continue
    const at = stepRow(i)
    const sum = choices.logsumexp[at]!
    if (choices.logits !== undefined) row.accept(choices.logits.subarray(at * vocab, (at + 1) * vocab), sum)
    else row.acceptToken(choices.argmax![at]!, choices.maxLogit![at]! - sum)
  }
}

/**
 * Joining rows grouped by prompt: `unique` holds the first row of each distinct
 * (prompt ids, greedy) pair, `of[j]` the group of joining row j. k samples of one
 * prompt (GRPO, RLOO, PPO with several rollouts per prompt) prefill once.
 */
export const promptGroups = (joining: ReadonlyArray<GenerationRow>): { readonly unique: Array<GenerationRow>; readonly of: Array<number> } =>
  distinctBy(joining, (row) => `${row.greedy ? "g" : "s"}:${row.contextIds.join(",")}`)

/**
 * Prefills `joining` rows into fresh caches and samples their first tokens.
 * Rows with the same prompt share one prefilled row: the returned caches hold
 * the distinct prompts, `cacheRow(j)` is joining row j's row in them, and each
 * row samples its first token from that row's logits with its own random stream.
 */
const prefillRows = (runtime: LlamaRuntime, keeper: CacheKeeper, joining: ReadonlyArray<GenerationRow>, cache: number, options: GenerateOptions) =>
  Effect.gen(function* () {
    const { config, padTokenId } = runtime
    const { unique, of } = promptGroups(joining)
    const shape = { batch: batchBucket(unique.length), length: lengthBucket(Math.max(...unique.map((r) => r.length))), cache }
    const rows = leftPadRows(unique.map((r) => r.contextIds), shape.length, padTokenId, cache)
    const exe = yield* runtime.executable(shape, "last-logits", options.adapter?.lora, keeper.update)
    // The step reads empty caches (shared zeros); its keys and values are written into fresh ones after it.
    const step = yield* runStep(runtime, exe, { ...makeStepFeeds(config, runtime.frequencies, shape, rows, padTokenId), ...keeper.empty(shape.batch), ...adapterFeeds(options) }, unique)
    const next = yield* keeper.advance(keeper.fresh(shape.batch), step.caches, rows)
    acceptChoices(runtime, step.choices, joining, (j) => of[j]!)
    return { caches: next.caches, batch: shape.batch, positions: of.map((group) => next.positions[group]!), cacheRow: (j: number) => of[j]! }
  })

/**
 * KV-cache decoding with continuous batching: up to `maxBatch` rows decode
 * together; waiting requests are prefilled and spliced in, and finished rows
 * dropped, whenever the live rows fit in half the batch bucket (a bucket
 * boundary) or the newcomers would at least double the live rows, or fill a
 * whole prefill of `maxPrefillRows` (requests that arrive while a few rows
 * decode join at once). Every row has its own
 * positions, so rows that joined at different times share a step. The cache
 * size is fixed when the loop starts; a newcomer that does not fit it waits
 * in the queue for the next loop.
 */
const cachedLoop = (runtime: LlamaRuntime, queue: RowQueue, options: GenerateOptions, maxBatch: number) =>
  Effect.gen(function* () {
    const { config, padTokenId } = runtime
    const waiting = queue.waiting
    const starting = waiting.filter((row) => row.finish === null)
    if (starting.length === 0) {
      waiting.length = 0
      return
    }
    // One cache size serves every row that may join: the largest prompt bucket plus the largest budget
    // (or an existing decode step's larger cache; see LlamaRuntime.decodeShape).
    const longestPrompt = lengthBucket(Math.max(...starting.map((r) => r.length)))
    const kvMode = yield* runtime.kvCache
    const lora = options.adapter?.lora
    const decodeShape = (batch: number, cache: number, sameCache: boolean) => runtime.decodeShape({ batch, cache }, "last-logits", lora, cacheUpdateOf(kvMode), sameCache)
    const cache = decodeShape(
      batchBucket(Math.min(starting.length, maxBatch)),
      cacheBucket(longestPrompt + Math.max(...starting.map((r) => r.remaining)), Math.max(options.contextLength, longestPrompt)),
      false
    ).cache
    const emptySlots = () => new Array<number>(cache).fill(-1)
    const switchAt = runtime.frequencies.long?.beyond
    const prefillCap = options.maxPrefillRows ?? maxBatch
    const keeper = cacheKeeper(runtime, kvMode, cache, options.collectAfterBytes)
    let batch = 0
    let slots: Array<GenerationRow | null> = []
    let cachePositions: Array<Array<number>> = []
    let caches: CacheFeeds = {}
    let decodeProgram: { readonly batch: number; readonly exe: Executable } | undefined
    for (;;) {
      const live = slots.flatMap((row, i) => (isLiveRow(row) ? [i] : []))
      const atBoundary = live.length <= batch / 2
      const room = Math.min(maxBatch - live.length, prefillCap)
      const joinable = countFitting(waiting, cache, room)
      // A full prefill counts as doubling: a batch wider than twice the prefill cap still fills.
      if (joinable > 0 && (atBoundary || joinable >= Math.min(live.length, prefillCap))) {
        const joining = takeFitting(waiting, cache, room)
        const fresh = yield* prefillRows(runtime, keeper, joining, cache, options)
        queue.afterStep?.()
        const freshLive = joining.flatMap((row, j) => (isLiveRow(row) ? [j] : []))
        const members = [...live.map((i) => ({ row: slots[i]!, positions: cachePositions[i]! })), ...freshLive.map((j) => ({ row: joining[j]!, positions: fresh.positions[j]! }))]
        if (members.length === 0) {
          yield* keeper.release(caches)
          yield* keeper.release(fresh.caches)
          caches = {}
          slots = []
          batch = 0
          continue
        }
        const size = decodeShape(batchBucket(members.length), cache, true).batch
        // Padding rows repeat the last kept row; their slots are empty so nothing attends to them.
        const padRows = size - members.length
        const oldRows = live
        const freshRows = [...freshLive, ...new Array<number>(freshLive.length > 0 ? padRows : 0).fill(freshLive[freshLive.length - 1] ?? 0)].map(fresh.cacheRow)
        const paddedOld = freshLive.length > 0 ? oldRows : [...oldRows, ...new Array<number>(padRows).fill(oldRows[oldRows.length - 1] ?? 0)]
        caches = yield* keeper.select([{ caches, batch, rows: paddedOld }, { caches: fresh.caches, batch: fresh.batch, rows: freshRows }])
        slots = [...members.map((m) => m.row), ...new Array<GenerationRow | null>(padRows).fill(null)]
        cachePositions = [...members.map((m) => m.positions), ...Array.from({ length: padRows }, emptySlots)]
        batch = size
        continue
      }
      if (live.length === 0) break
      // longrope: a row whose next position is the first past the original context leaves the batch and
      // joins again, prefilled whole with the long factors (its cache holds keys rotated with the short
      // ones), as transformers recomputes a Phi-3 sequence that outgrows it.
      const crossing = switchAt === undefined ? [] : live.filter((i) => nextPosition(slots[i]!) === switchAt)
      if (crossing.length > 0) {
        for (const i of crossing) {
          waiting.unshift(slots[i]!)
          slots[i] = null
        }
        continue
      }
      const smaller = batch > 1 && atBoundary ? decodeShape(batchBucket(live.length), cache, true).batch : batch
      if (smaller < batch) {
        const keep = Array.from({ length: smaller }, (_, j) => live[j] ?? live[0]!)
        caches = yield* keeper.select([{ caches, batch, rows: keep }])
        slots = keep.map((from, j) => (j < live.length ? slots[from]! : null))
        cachePositions = keep.map((from, j) => (j < live.length ? cachePositions[from]! : emptySlots()))
        batch = smaller
      }
      const steps: Array<RowStep> = slots.map((row, i) =>
        isLiveRow(row)
          ? { tokens: [row.lastToken], positions: [nextPosition(row)], cachePositions: cachePositions[i]! }
          : { tokens: [padTokenId], positions: [-1], cachePositions: cachePositions[i]! }
      )
      const shape = { batch, length: 1, cache }
      // Looked up once per batch size, not per token (the runtime's memoised lookup costs ~0.1 ms).
      if (decodeProgram?.batch !== batch) decodeProgram = { batch, exe: yield* runtime.executable(shape, "last-logits", lora, keeper.update) }
      const step = yield* runStep(runtime, decodeProgram.exe, { ...makeStepFeeds(config, runtime.frequencies, shape, steps, padTokenId), ...caches, ...adapterFeeds(options) }, slots)
      const advanced = yield* keeper.advance(caches, step.caches, steps)
      caches = advanced.caches
      cachePositions = advanced.positions
      acceptChoices(runtime, step.choices, slots)
      queue.afterStep?.()
    }
    yield* keeper.release(caches)
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
      const step = yield* runStep(runtime, exe, { ...makeStepFeeds(config, runtime.frequencies, shape, leftPadRows(sequences, shape.length, padTokenId, 0), padTokenId), ...adapterFeeds(options) }, rows)
      acceptChoices(runtime, step.choices, rows)
    }
  })
