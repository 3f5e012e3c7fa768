/**
 * `Generation`s → OpenAI response bodies and stream chunks. Finish reasons:
 * `length` stays `length`; `stop` (a stop string) and `eos` are both OpenAI's
 * `stop`, told apart by vLLM's `stop_reason` (null for end-of-sequence).
 * Non-streamed logprobs name tokens `token_id:<id>` (vLLM's
 * `return_tokens_as_token_ids` convention: the LanguageModel interface gives
 * ids, not token strings; "" when the model gave no ids); streamed ones carry
 * each token's text. A model without logprobs answers `logprobs: null`.
 *
 * @example
 * ```ts
 * import { completionBody } from "@refine-af/openai"
 * const body = completionBody("cmpl-1", "tiny", [{ text: "a", tokenIds: [5], logprobs: [-0.1], finishReason: "length", promptTokens: 3 }], { logprobs: true, echoPrompts: undefined, promptOf: () => 0 })
 * ```
 */
import type { Generation } from "@refine-af/core"
import type { ChatCompletionResponse } from "../protocol/chat.ts"
import type { CompletionResponse } from "../protocol/completions.ts"
import type { Usage } from "../protocol/common.ts"

const now = () => Math.floor(Date.now() / 1000)

/** OpenAI's finish reason and vLLM's stop_reason for a core finish reason. */
export const finishFields = (reason: Generation["finishReason"]) =>
  reason === "length" ? { finish_reason: "length" } : reason === "eos" ? { finish_reason: "stop", stop_reason: null } : { finish_reason: "stop" }

const tokenName = (id: number | undefined) => (id === undefined ? "" : `token_id:${id}`)

/** Per-token entries, or undefined when the model gave no logprobs (a remote model may not). */
const tokenLogprobs = (g: Generation) => g.logprobs?.map((logprob, i) => ({ token: tokenName(g.tokenIds?.[i]), logprob }))

const usageOf = (generations: ReadonlyArray<Generation>, promptTokens: number): Usage => {
  const completion = generations.reduce((sum, g) => sum + (g.tokenIds?.length ?? 0), 0)
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion }
}

/** Distinct prompts counted once in usage. */
const promptTotal = (generations: ReadonlyArray<Generation>, promptOf: (choice: number) => number) => {
  const seen = new Map<number, number>()
  generations.forEach((g, i) => seen.set(promptOf(i), g.promptTokens))
  return [...seen.values()].reduce((a, b) => a + b, 0)
}

/** The `/v1/completions` response. */
export const completionBody = (
  id: string,
  model: string,
  generations: ReadonlyArray<Generation>,
  options: { readonly logprobs: boolean; readonly echoPrompts: ReadonlyArray<string> | undefined; readonly promptOf: (choice: number) => number }
): CompletionResponse => ({
  id,
  object: "text_completion",
  created: now(),
  model,
  choices: generations.map((g, index) => ({
    index,
    text: (options.echoPrompts?.[options.promptOf(index)] ?? "") + g.text,
    logprobs: options.logprobs && g.logprobs
      ? { tokens: tokenLogprobs(g)!.map((t) => t.token), token_logprobs: [...g.logprobs], top_logprobs: null }
      : null,
    ...finishFields(g.finishReason)
  })),
  usage: usageOf(generations, promptTotal(generations, options.promptOf))
})

/** The `/v1/chat/completions` response. */
export const chatBody = (id: string, model: string, generations: ReadonlyArray<Generation>, options: { readonly logprobs: boolean }): ChatCompletionResponse => ({
  id,
  object: "chat.completion",
  created: now(),
  model,
  choices: generations.map((g, index) => ({
    index,
    message: { role: "assistant", content: g.text },
    logprobs: options.logprobs && g.logprobs
      ? { content: tokenLogprobs(g)!.map((t) => ({ ...t, bytes: null, top_logprobs: [] })) }
      : null,
    ...finishFields(g.finishReason)
  })),
  usage: usageOf(generations, generations[0]?.promptTokens ?? 0)
})
