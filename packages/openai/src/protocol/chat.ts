/**
 * `POST /v1/chat/completions`: request, response, streamed chunk, and chat
 * logprobs (`logprobs.content[]` of `{ token, logprob, bytes, top_logprobs }`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ChatCompletionRequest } from "@refine-af/openai"
 * const request = Schema.decodeUnknownSync(ChatCompletionRequest)({ model: "m", messages: [{ role: "user", content: "Hi" }], logprobs: true })
 * ```
 */
import { Schema } from "effect"
import { samplingFields, Usage } from "./common.ts"

/** A text part of a multi-part message content. */
export const TextPart = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String })

/** One chat message; `developer` is treated as `system`. */
export const ChatMessageBody = Schema.Struct({
  role: Schema.Literals(["system", "developer", "user", "assistant"]),
  content: Schema.Union([Schema.String, Schema.Array(TextPart)]),
  name: Schema.optionalKey(Schema.String)
})
export type ChatMessageBody = typeof ChatMessageBody.Type

/** The chat completions request. */
export const ChatCompletionRequest = Schema.Struct({
  ...samplingFields,
  messages: Schema.Array(ChatMessageBody).check(Schema.isMinLength(1)),
  max_completion_tokens: Schema.optionalKey(Schema.NullOr(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))),
  logprobs: Schema.optionalKey(Schema.NullOr(Schema.Boolean)),
  top_logprobs: Schema.optionalKey(Schema.NullOr(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 20 }))))
})
export type ChatCompletionRequest = typeof ChatCompletionRequest.Type

/** An alternative token and its logprob. */
export const TopLogprob = Schema.Struct({
  token: Schema.String,
  logprob: Schema.Number,
  bytes: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Number)))
})

/** One generated token's logprob entry. */
export const ChatTokenLogprob = Schema.Struct({
  token: Schema.String,
  logprob: Schema.Number,
  bytes: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Number))),
  top_logprobs: Schema.optionalKey(Schema.NullOr(Schema.Array(TopLogprob)))
})
export type ChatTokenLogprob = typeof ChatTokenLogprob.Type

/** `choices[].logprobs` of a chat response. */
export const ChatLogprobs = Schema.Struct({ content: Schema.NullOr(Schema.Array(ChatTokenLogprob)) })
export type ChatLogprobs = typeof ChatLogprobs.Type

/** A response choice. */
export const ChatChoice = Schema.Struct({
  index: Schema.Number,
  message: Schema.Struct({ role: Schema.optionalKey(Schema.String), content: Schema.NullOr(Schema.String) }),
  logprobs: Schema.optionalKey(Schema.NullOr(ChatLogprobs)),
  finish_reason: Schema.optionalKey(Schema.NullOr(Schema.String)),
  stop_reason: Schema.optionalKey(Schema.NullOr(Schema.Union([Schema.String, Schema.Number])))
})

/** The chat completions response. */
export const ChatCompletionResponse = Schema.Struct({
  id: Schema.optionalKey(Schema.String),
  object: Schema.optionalKey(Schema.String),
  created: Schema.optionalKey(Schema.Number),
  model: Schema.optionalKey(Schema.String),
  choices: Schema.Array(ChatChoice),
  usage: Schema.optionalKey(Schema.NullOr(Usage))
})
export type ChatCompletionResponse = typeof ChatCompletionResponse.Type

/** A streamed chunk choice: a `delta` instead of a `message`. */
export const ChatChunkChoice = Schema.Struct({
  index: Schema.Number,
  delta: Schema.Struct({ role: Schema.optionalKey(Schema.String), content: Schema.optionalKey(Schema.NullOr(Schema.String)) }),
  logprobs: Schema.optionalKey(Schema.NullOr(ChatLogprobs)),
  finish_reason: Schema.optionalKey(Schema.NullOr(Schema.String)),
  stop_reason: Schema.optionalKey(Schema.NullOr(Schema.Union([Schema.String, Schema.Number])))
})

/** One `chat.completion.chunk` of a stream. */
export const ChatCompletionChunk = Schema.Struct({
  id: Schema.optionalKey(Schema.String),
  object: Schema.optionalKey(Schema.String),
  created: Schema.optionalKey(Schema.Number),
  model: Schema.optionalKey(Schema.String),
  choices: Schema.Array(ChatChunkChoice),
  usage: Schema.optionalKey(Schema.NullOr(Usage))
})
export type ChatCompletionChunk = typeof ChatCompletionChunk.Type
