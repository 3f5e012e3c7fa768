/**
 * The core `LanguageModel` service on a {@link LlamaRuntime}: tokenization
 * (raw prompts or chat templates), batched generation, streaming, scoring and
 * token counting. Backend failures become `LanguageModelError`s with a fix.
 */
import { LanguageModelError, type ChatMessage, type GenerationRequest, type LanguageModelService } from "@refine-af/core"
import { Effect, Queue, Stream } from "effect"
import { outsideVocabulary, type ActiveAdapter, type TokenRequest } from "../generation/generate.ts"
import { makeDecodeScheduler } from "../generation/scheduler.ts"
import type { LlamaRuntime } from "../model/runtime.ts"
import type { Tokenizer } from "@refine-af/models"
import { scoreSequences } from "./scoring.ts"

/** Options of {@link makeLlamaLanguageModel}. */
export interface LlamaLanguageModelOptions {
  /** Stable identifier for lineage and cache keys. */
  readonly id: string
  readonly contextLength: number
  readonly eosIds: ReadonlySet<number>
  readonly maxBatch: number
  /** Most rows prefilled, or scored, in one program (default `maxBatch`; see `GenerateOptions.maxPrefillRows`). */
  readonly prefillRows?: number
  /** An enabled adapter; omit for the base model. */
  readonly adapter?: ActiveAdapter
}

const internal = (error: { readonly message: string }) =>
  new LanguageModelError({ reason: "Internal", message: `The compute backend failed: ${error.message}`, fix: "Check the backend resource (provider, memory); rerun with provider: cpu to rule out the accelerator." })

/**
 * Builds the service.
 *
 * @example
 * ```ts
 * import { makeLlamaLanguageModel } from "@refine-af/model-llama"
 * // const lm = makeLlamaLanguageModel(runtime, tokenizer, { id: "tiny", contextLength: 512, eosIds: new Set([2]), maxBatch: 8 })
 * ```
 */
export const makeLlamaLanguageModel = (runtime: LlamaRuntime, tokenizer: Tokenizer, options: LlamaLanguageModelOptions): LanguageModelService => {
  const promptIds = (prompt: string | ReadonlyArray<ChatMessage>) =>
    typeof prompt === "string"
      ? Effect.succeed(tokenizer.encode(prompt))
      : tokenizer.applyChatTemplate(prompt).pipe(
        // The template already places any special tokens.
        Effect.map((text) => tokenizer.encode(text, { addSpecialTokens: false })),
        Effect.mapError((error) => new LanguageModelError({ reason: "InvalidRequest", message: error.message, fix: "Pass a raw string prompt for models without a chat template." }))
      )
  const validate = (request: GenerationRequest) =>
    Number.isInteger(request.params.maxNewTokens) && request.params.maxNewTokens >= 0
      ? Effect.void
      : Effect.fail(new LanguageModelError({ reason: "InvalidRequest", message: `maxNewTokens must be a non-negative integer, got ${request.params.maxNewTokens}.`, fix: "Set params.maxNewTokens, e.g. 256." }))
  // One request queue and decode loop for every call: concurrent calls share one continuous batch.
  const scheduler = makeDecodeScheduler(runtime, {
    tokenizer,
    eosIds: options.eosIds,
    contextLength: options.contextLength,
    maxBatch: options.maxBatch,
    ...(options.prefillRows === undefined ? {} : { maxPrefillRows: options.prefillRows }),
    ...(options.adapter ? { adapter: options.adapter } : {})
  })
  const generateWith = (requests: ReadonlyArray<GenerationRequest>, onChunk?: TokenRequest["onChunk"]) =>
    Effect.gen(function* () {
      const tokenRequests = yield* Effect.forEach(requests, (request) =>
        Effect.andThen(validate(request), Effect.map(promptIds(request.prompt), (ids) => ({ promptIds: ids, params: request.params, ...(onChunk ? { onChunk } : {}) }))))
      return yield* scheduler.generate(tokenRequests).pipe(Effect.catchTag(["BackendCompileError", "BackendFeedError", "BackendRunError", "DeviceTensorError", "UnsupportedOpError"], (e) => Effect.fail(internal(e))))
    })
  return {
    info: { id: options.id, contextLength: options.contextLength },
    generate: (requests) => generateWith(requests),
    stream: (request) =>
      Stream.callback((queue) =>
        generateWith([request], (chunk) => Queue.offerUnsafe(queue, chunk)).pipe(
          // The last word: why it ended and the prompt's length (a chat prompt's after its template).
          Effect.tap(([generation]) => Effect.sync(() => Queue.offerUnsafe(queue, { text: "", finish: { reason: generation!.finishReason, promptTokens: generation!.promptTokens } }))),
          Effect.andThen(Queue.end(queue))
        )
      ),
    score: (requests) =>
      Effect.gen(function* () {
        const sequences = requests.map((request) => {
          const prompt = tokenizer.encode(request.prompt)
          const continuation = tokenizer.encode(request.continuation, { addSpecialTokens: false })
          return { ids: [...prompt, ...continuation], from: prompt.length, continuation }
        })
        for (const s of sequences) {
          if (s.from === 0 && s.continuation.length > 0) return yield* Effect.fail(new LanguageModelError({ reason: "InvalidRequest", message: "Scoring needs a non-empty prompt: the first token has no context to be predicted from.", fix: "Give each scoring request a prompt." }))
          if (s.ids.length > options.contextLength) return yield* Effect.fail(new LanguageModelError({ reason: "ContextOverflow", message: `A scoring request of ${s.ids.length} tokens exceeds the ${options.contextLength}-token context.`, fix: "Shorten the prompt or continuation, or raise max_context." }))
          const outside = outsideVocabulary(s.ids, runtime.config.vocabSize)
          if (outside) return yield* Effect.fail(outside)
        }
        const scored = sequences.filter((s) => s.continuation.length > 0)
        const logprobs = yield* scoreSequences(runtime, scored, options.prefillRows ?? options.maxBatch, options.adapter).pipe(
          Effect.catchTag(["BackendCompileError", "BackendFeedError", "BackendRunError", "DeviceTensorError", "UnsupportedOpError"], (e) => Effect.fail(internal(e)))
        )
        let next = 0
        return sequences.map((s) => {
          const values = s.continuation.length > 0 ? logprobs[next++]! : []
          return { tokenIds: s.continuation, logprobs: values, total: values.reduce((a, b) => a + b, 0) }
        })
      }),
    countTokens: (text) => Effect.sync(() => tokenizer.encode(text, { addSpecialTokens: false }).length)
  }
}
