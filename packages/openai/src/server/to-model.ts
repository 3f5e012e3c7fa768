/**
 * OpenAI request bodies → `GenerationRequest`s. `n` choices become `n`
 * requests; with a `seed`, choice `i` gets `seed + i` so the choices differ
 * yet the whole response is reproducible. Defaults follow OpenAI:
 * temperature 1, `max_tokens` 16 for completions and the context for chat.
 *
 * @example
 * ```ts
 * import { completionRequests } from "@refine-af/openai"
 * const requests = completionRequests({ model: "m", prompt: "Hi", max_tokens: 4, seed: 1, n: 2 }, 512)
 * ```
 */
import type { ChatMessage, GenerationRequest, SamplingParams } from "@refine-af/core"
import type { ChatCompletionRequest } from "../protocol/chat.ts"
import type { CompletionRequest } from "../protocol/completions.ts"

type Sampling = Pick<CompletionRequest, "temperature" | "top_p" | "top_k" | "repetition_penalty" | "presence_penalty" | "frequency_penalty" | "stop" | "seed">

const params = (body: Sampling, maxNewTokens: number, choice: number): SamplingParams => {
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop
  return {
    maxNewTokens,
    temperature: body.temperature ?? 1,
    ...(body.top_p == null ? {} : { topP: body.top_p }),
    ...(body.top_k == null || body.top_k <= 0 ? {} : { topK: body.top_k }),
    ...(body.repetition_penalty == null ? {} : { repetitionPenalty: body.repetition_penalty }),
    ...(body.presence_penalty == null ? {} : { presencePenalty: body.presence_penalty }),
    ...(body.frequency_penalty == null ? {} : { frequencyPenalty: body.frequency_penalty }),
    ...(stop.length === 0 ? {} : { stop }),
    ...(body.seed == null ? {} : { seed: body.seed + choice })
  }
}

/** The prompts of a completions body (a string or a list of strings). */
export const promptsOf = (body: CompletionRequest): ReadonlyArray<string> => (typeof body.prompt === "string" ? [body.prompt] : body.prompt)

/** One request per (prompt, choice), prompt-major, as OpenAI numbers choices. */
export const completionRequests = (body: CompletionRequest, _contextLength: number): Array<GenerationRequest> => {
  const n = body.n ?? 1
  return promptsOf(body).flatMap((prompt) => Array.from({ length: n }, (_, choice) => ({ prompt, params: params(body, body.max_tokens ?? 16, choice) })))
}

/** Chat messages in the core's shape (`developer` is a system message; text parts are joined). */
export const chatMessages = (body: ChatCompletionRequest): Array<ChatMessage> =>
  body.messages.map((message) => ({
    role: message.role === "developer" ? "system" : message.role,
    content: typeof message.content === "string" ? message.content : message.content.map((part) => part.text).join("")
  }))

/** One request per choice. */
export const chatRequests = (body: ChatCompletionRequest, contextLength: number): Array<GenerationRequest> => {
  const messages = chatMessages(body)
  const maxNewTokens = body.max_completion_tokens ?? body.max_tokens ?? contextLength
  return Array.from({ length: body.n ?? 1 }, (_, choice) => ({ prompt: messages, params: params(body, maxNewTokens, choice) }))
}
