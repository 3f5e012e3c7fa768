/**
 * `GenerationRequest` → OpenAI request bodies, and response bodies →
 * `Generation`s. A string prompt goes to `/completions` (or, with
 * `api: chat`, as one user message to `/chat/completions`); chat messages go
 * to `/chat/completions`. Per-request seeds are passed through as `seed`.
 * Finish reasons: `length` → `length`; `stop` → `eos` when vLLM's
 * `stop_reason` is null (end-of-sequence), else `stop`.
 *
 * @example
 * ```ts
 * import { requestBody } from "@refine-af/lm-openai"
 * const { path, body } = requestBody({ prompt: "Hi", params: { maxNewTokens: 8, seed: 3 } }, { model: "m", api: "completions", logprobs: true })
 * ```
 */
import type { FinishReason, Generation, GenerationRequest } from "@refine-af/core"
import type { ChatCompletionResponse, CompletionResponse } from "@refine-af/openai"

/** What every body carries. */
export interface WireOptions {
  readonly model: string
  readonly api: "completions" | "chat"
  /** Ask for per-token logprobs. */
  readonly logprobs: boolean
}

const sampling = (request: GenerationRequest) => {
  const p = request.params
  return {
    max_tokens: p.maxNewTokens,
    ...(p.temperature === undefined ? {} : { temperature: p.temperature }),
    ...(p.topP === undefined ? {} : { top_p: p.topP }),
    ...(p.topK === undefined ? {} : { top_k: p.topK }),
    ...(p.repetitionPenalty === undefined ? {} : { repetition_penalty: p.repetitionPenalty }),
    ...(p.presencePenalty === undefined ? {} : { presence_penalty: p.presencePenalty }),
    ...(p.frequencyPenalty === undefined ? {} : { frequency_penalty: p.frequencyPenalty }),
    ...(p.stop === undefined || p.stop.length === 0 ? {} : { stop: p.stop }),
    ...(p.seed === undefined ? {} : { seed: p.seed })
  }
}

/** The route and body for one request. */
export const requestBody = (request: GenerationRequest, options: WireOptions, extra: Record<string, unknown> = {}) => {
  if (typeof request.prompt === "string" && options.api === "completions") {
    return { path: "/completions", chat: false, body: { model: options.model, prompt: request.prompt, ...sampling(request), ...(options.logprobs ? { logprobs: 0 } : {}), ...extra } }
  }
  const messages = typeof request.prompt === "string" ? [{ role: "user", content: request.prompt }] : request.prompt
  return { path: "/chat/completions", chat: true, body: { model: options.model, messages, ...sampling(request), ...(options.logprobs ? { logprobs: true } : {}), ...extra } }
}

/** A finish reason from OpenAI's fields. */
export const finishReason = (finish: string | null | undefined, stopReason: unknown, hasStopReason: boolean): FinishReason =>
  finish === "length" ? "length" : hasStopReason && stopReason === null ? "eos" : "stop"

/** Token ids when the server names tokens `token_id:<id>` (vLLM's `return_tokens_as_token_ids`, our server). */
const tokenIdsOf = (tokens: ReadonlyArray<string>): ReadonlyArray<number> | undefined => {
  const ids = tokens.map((t) => (/^token_id:(\d+)$/.exec(t)?.[1]))
  return ids.every((id) => id !== undefined) ? ids.map(Number) : undefined
}

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }

/** The generation of a `/completions` response. */
export const fromCompletion = (body: CompletionResponse): Generation => {
  const choice = body.choices[0]!
  const logprobs = choice.logprobs?.token_logprobs.map((v) => v ?? 0)
  return {
    text: choice.text,
    ...optional("tokenIds", choice.logprobs ? tokenIdsOf(choice.logprobs.tokens) : undefined),
    ...optional("logprobs", logprobs),
    finishReason: finishReason(choice.finish_reason, choice.stop_reason, "stop_reason" in choice),
    promptTokens: body.usage?.prompt_tokens ?? 0
  }
}

/** The generation of a `/chat/completions` response. */
export const fromChat = (body: ChatCompletionResponse): Generation => {
  const choice = body.choices[0]!
  const content = choice.logprobs?.content ?? undefined
  return {
    text: choice.message.content ?? "",
    ...optional("tokenIds", content ? tokenIdsOf(content.map((c) => c.token)) : undefined),
    ...optional("logprobs", content?.map((c) => c.logprob)),
    finishReason: finishReason(choice.finish_reason, choice.stop_reason, "stop_reason" in choice),
    promptTokens: body.usage?.prompt_tokens ?? 0
  }
}
