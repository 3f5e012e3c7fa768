/**
 * `@refine-af/openai`: the OpenAI wire protocol as effect Schemas
 * (completions, chat completions, models, logprobs, usage, errors), SSE
 * framing (encoder and an incremental decoder with typed errors), and an
 * OpenAI-compatible HTTP server over any `LanguageModelService`. Shared by the
 * `lm-openai` client plugin and `refine-af serve`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { CompletionResponse, OpenAiEventStream } from "@refine-af/openai"
 * const stream = new OpenAiEventStream()
 * const chunks = stream.push('data: {"choices":[{"index":0,"text":"hi"}]}\n\n').map((c) => Schema.decodeUnknownSync(CompletionResponse)(c))
 * ```
 */
export * from "./protocol/common.ts"
export * from "./protocol/completions.ts"
export * from "./protocol/chat.ts"
export * from "./protocol/models.ts"
export * from "./sse/errors.ts"
export * from "./sse/encode.ts"
export * from "./sse/decode.ts"
export * from "./sse/json-stream.ts"
export * from "./server/http-error.ts"
export * from "./server/failure.ts"
export * from "./server/admission.ts"
export * from "./server/http-io.ts"
export * from "./server/to-model.ts"
export * from "./server/to-body.ts"
export * from "./server/streaming.ts"
export * from "./server/handlers.ts"
export * from "./server/server.ts"
