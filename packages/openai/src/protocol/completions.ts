/**
 * `POST /v1/completions`: request, response, streamed chunk, and the legacy
 * logprobs shape (`tokens`, `token_logprobs`, `top_logprobs`, `text_offset`).
 * With `echo: true` the prompt's tokens come first in `tokens`, and the first
 * prompt token's logprob is null (it has no context).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { CompletionRequest } from "@refine-af/openai"
 * const request = Schema.decodeUnknownSync(CompletionRequest)({ model: "m", prompt: "Hi", max_tokens: 4, logprobs: 1 })
 * ```
 */
import { Schema } from "effect"
import { samplingFields, Usage } from "./common.ts"

/** The completions request (fields we do not act on are accepted and ignored). */
export const CompletionRequest = Schema.Struct({
  ...samplingFields,
  prompt: Schema.Union([Schema.String, Schema.Array(Schema.String)]),
  /** Number of most likely alternatives per token; any number (even 0) asks for the sampled token's logprob. */
  logprobs: Schema.optionalKey(Schema.NullOr(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 20 })))),
  echo: Schema.optionalKey(Schema.NullOr(Schema.Boolean))
})
export type CompletionRequest = typeof CompletionRequest.Type

/** Legacy per-token logprobs of a completion choice. */
export const CompletionLogprobs = Schema.Struct({
  tokens: Schema.Array(Schema.String),
  token_logprobs: Schema.Array(Schema.NullOr(Schema.Number)),
  top_logprobs: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.NullOr(Schema.Record(Schema.String, Schema.Number))))),
  text_offset: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Number)))
})
export type CompletionLogprobs = typeof CompletionLogprobs.Type

/** One choice of a completion response or chunk. `stop_reason` is vLLM's: null when the model's end-of-sequence token stopped it. */
export const CompletionChoice = Schema.Struct({
  index: Schema.Number,
  text: Schema.String,
  logprobs: Schema.optionalKey(Schema.NullOr(CompletionLogprobs)),
  finish_reason: Schema.optionalKey(Schema.NullOr(Schema.String)),
  stop_reason: Schema.optionalKey(Schema.NullOr(Schema.Union([Schema.String, Schema.Number])))
})
export type CompletionChoice = typeof CompletionChoice.Type

/** The completions response; also the shape of each streamed chunk. */
export const CompletionResponse = Schema.Struct({
  id: Schema.optionalKey(Schema.String),
  object: Schema.optionalKey(Schema.String),
  created: Schema.optionalKey(Schema.Number),
  model: Schema.optionalKey(Schema.String),
  choices: Schema.Array(CompletionChoice),
  usage: Schema.optionalKey(Schema.NullOr(Usage))
})
export type CompletionResponse = typeof CompletionResponse.Type
