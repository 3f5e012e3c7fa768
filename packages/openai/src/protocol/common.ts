/**
 * Pieces shared by the completions and chat protocols: token usage, error
 * bodies, finish reasons and the `stop` field. Response schemas are lenient
 * (optional ids, nullable fields, any finish reason string) because real
 * servers (vLLM, llama.cpp, Ollama, TGI) differ in what they fill in.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ErrorBody } from "@refine-af/openai"
 * const body = Schema.decodeUnknownSync(ErrorBody)({ error: { message: "no", type: "invalid_request_error", param: null, code: null } })
 * ```
 */
import { Schema } from "effect"

/** Token counts of one response. */
export const Usage = Schema.Struct({
  prompt_tokens: Schema.Number,
  completion_tokens: Schema.Number,
  total_tokens: Schema.Number
})
export type Usage = typeof Usage.Type

/** The body of every OpenAI error response. */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    message: Schema.String,
    type: Schema.optionalKey(Schema.NullOr(Schema.String)),
    param: Schema.optionalKey(Schema.NullOr(Schema.String)),
    code: Schema.optionalKey(Schema.NullOr(Schema.Union([Schema.String, Schema.Number])))
  })
})
export type ErrorBody = typeof ErrorBody.Type

/** `stop`: one string, several, or null. */
export const StopField = Schema.NullOr(Schema.Union([Schema.String, Schema.Array(Schema.String)]))

/** `stream_options` of a streaming request. */
export const StreamOptions = Schema.Struct({ include_usage: Schema.optionalKey(Schema.NullOr(Schema.Boolean)) })

/** Sampling fields common to both request kinds (vLLM's `top_k` / `repetition_penalty` extensions included). */
export const samplingFields = {
  model: Schema.String,
  temperature: Schema.optionalKey(Schema.NullOr(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 2 })))),
  top_p: Schema.optionalKey(Schema.NullOr(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })))),
  top_k: Schema.optionalKey(Schema.NullOr(Schema.Int)),
  repetition_penalty: Schema.optionalKey(Schema.NullOr(Schema.Number.check(Schema.isGreaterThan(0)))),
  presence_penalty: Schema.optionalKey(Schema.NullOr(Schema.Number.check(Schema.isBetween({ minimum: -2, maximum: 2 })))),
  frequency_penalty: Schema.optionalKey(Schema.NullOr(Schema.Number.check(Schema.isBetween({ minimum: -2, maximum: 2 })))),
  n: Schema.optionalKey(Schema.NullOr(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)))),
  stream: Schema.optionalKey(Schema.NullOr(Schema.Boolean)),
  stream_options: Schema.optionalKey(Schema.NullOr(StreamOptions)),
  stop: Schema.optionalKey(StopField),
  seed: Schema.optionalKey(Schema.NullOr(Schema.Int)),
  max_tokens: Schema.optionalKey(Schema.NullOr(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))),
  user: Schema.optionalKey(Schema.String)
} as const
