/**
 * The `LanguageModel` service: text generation and continuation scoring.
 *
 * Providers: `model-llama/hf` (our own compute core), later `lm-openai/*`
 * (OpenAI-compatible servers). Consumers: generators, reward scorers, RL
 * algorithms, evaluators. A recipe may hold several models (policy, reference,
 * judge); a stage names the one it wants through a resource slot.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { LanguageModelService } from "@refine-af/core"
 * const greet = (lm: LanguageModelService) =>
 *   lm.generate([{ prompt: "Hello", params: { maxNewTokens: 8, temperature: 0 } }])
 * ```
 */
import { Context, Schema, type Effect, type Stream } from "effect"

/** Sampling parameters for one request. `temperature: 0` means greedy. */
export interface SamplingParams {
  readonly maxNewTokens: number
  readonly temperature?: number
  readonly topK?: number
  readonly topP?: number
  readonly repetitionPenalty?: number
  readonly presencePenalty?: number
  readonly frequencyPenalty?: number
  /** Generation ends before the first occurrence of any of these strings (not included in `text`). */
  readonly stop?: ReadonlyArray<string>
  /** Per-request seed: the same seed, prompt and params give the same sample. */
  readonly seed?: number
}

export interface ChatMessage {
  readonly role: "system" | "user" | "assistant"
  readonly content: string
}

export interface GenerationRequest {
  /** A raw prompt, or chat messages rendered with the model's chat template. */
  readonly prompt: string | ReadonlyArray<ChatMessage>
  readonly params: SamplingParams
}

export type FinishReason = "stop" | "length" | "eos"

export interface Generation {
  readonly text: string
  /** The generated token ids; absent when the provider does not return them (a remote server). */
  readonly tokenIds?: ReadonlyArray<number>
  /**
   * log p(token | prefix) of each generated token under the sampling
   * distribution's logits (before temperature); absent when the provider does
   * not return them.
   */
  readonly logprobs?: ReadonlyArray<number>
  readonly finishReason: FinishReason
  readonly promptTokens: number
}

/**
 * One streamed piece of a generation. The last one may carry `finish`; a chunk
 * with `finish`, no `tokenId` and empty text is that news alone, not a token.
 */
export interface GenerationChunk {
  readonly text: string
  /** Absent when the provider streams text only. */
  readonly tokenId?: number
  /** Absent when the provider streams text only. */
  readonly logprob?: number
  /** On the last chunk, where the provider knows it: why the generation ended, and (where known) its prompt's token count (a chat prompt's after its template). */
  readonly finish?: { readonly reason: FinishReason; readonly promptTokens?: number }
}

export interface ScoringRequest {
  readonly prompt: string
  readonly continuation: string
}

export interface ContinuationScore {
  /** The continuation's token ids; absent when the provider does not return them. */
  readonly tokenIds?: ReadonlyArray<number>
  /** log p of each continuation token; absent when the provider returns only the total. */
  readonly logprobs?: ReadonlyArray<number>
  /** Sum of the continuation tokens' log-probabilities. */
  readonly total: number
}

export interface LanguageModelInfo {
  /** A stable identifier (e.g. path + revision hash) used in lineage and cache keys. */
  readonly id: string
  readonly contextLength: number
}

/**
 * Every failure of a language model provider. `reason` says which and `fix`
 * how to recover; `Unsupported` means this provider cannot do the operation at
 * all (e.g. scoring on a server without prompt logprobs), so retrying is pointless.
 */
export class LanguageModelError extends Schema.TaggedError<LanguageModelError>()("LanguageModelError", {
  reason: Schema.Literals(["Unavailable", "InvalidRequest", "ContextOverflow", "Unsupported", "Internal"]),
  message: Schema.String,
  fix: Schema.optional(Schema.String)
}) {}

export interface LanguageModelService {
  readonly info: LanguageModelInfo
  /** Batched generation; results are in request order. */
  readonly generate: (requests: ReadonlyArray<GenerationRequest>) => Effect.Effect<ReadonlyArray<Generation>, LanguageModelError>
  /** Token-by-token generation of one request. */
  readonly stream: (request: GenerationRequest) => Stream.Stream<GenerationChunk, LanguageModelError>
  /** Log-probabilities of each continuation given its prompt. */
  readonly score: (requests: ReadonlyArray<ScoringRequest>) => Effect.Effect<ReadonlyArray<ContinuationScore>, LanguageModelError>
  /** Number of tokens the model's tokenizer makes of `text`. */
  readonly countTokens: (text: string) => Effect.Effect<number, LanguageModelError>
}

export class LanguageModel extends Context.Service<LanguageModel, LanguageModelService>()("@refine-af/core/LanguageModel") {}
