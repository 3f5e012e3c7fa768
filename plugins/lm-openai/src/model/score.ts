/**
 * Continuation scoring through `echo` + `logprobs`: the prompt and
 * continuation are sent as one prompt with `echo: true`, and the continuation's
 * tokens are picked out of the echoed prompt by `text_offset`. A server that
 * refuses `echo` with logprobs, or answers without offsets, makes scoring
 * `Unsupported` (vLLM supports it; llama.cpp's server and Ollama do not).
 * The server tokenizes prompt and continuation together, so a token spanning
 * the boundary counts with the prompt. vLLM's offsets are a running sum of
 * each token decoded alone, begun at the BOS token's text (`<s>`,
 * `<|begin_of_text|>`), so they are shifted by it; they are re-anchored at the
 * end of the echoed prompt (`usage.prompt_tokens` tokens), whose text is known.
 * Offsets count characters as Python does (code points).
 *
 * @example
 * ```ts
 * import { continuationScore } from "@refine-af/lm-openai"
 * const score = continuationScore({ prompt: "a", continuation: " b" }, { choices: [{ index: 0, text: "a b", logprobs: { tokens: ["a", " b"], token_logprobs: [null, -1], text_offset: [0, 1] } }] })
 * ```
 */
import type { ContinuationScore, LanguageModelError, ScoringRequest } from "@refine-af/core"
import type { CompletionResponse } from "@refine-af/openai"
import { unsupported } from "./errors.ts"

const tokenIdName = /^token_id:\d+$/

const codePoints = (text: string) => [...text].length

const noEcho = (detail: string) =>
  unsupported(`This server cannot score continuations: ${detail}`, "Score with a server that supports echo + logprobs on /v1/completions (vLLM does), set score: unsupported, or use a local model (llama/hf) for scoring.")

/** The continuation's token logprobs out of an echoed completion. */
export const continuationScore = (request: ScoringRequest, body: CompletionResponse): ContinuationScore | LanguageModelError => {
  const logprobs = body.choices[0]?.logprobs
  if (!logprobs) return noEcho("the answer has no logprobs.")
  const offsets = logprobs.text_offset
  if (!offsets || offsets.length !== logprobs.tokens.length) return noEcho("the answer has no text_offset per token.")
  if (logprobs.tokens.some((token) => tokenIdName.test(token))) {
    return noEcho("it names tokens token_id:<id> (vLLM's --return-tokens-as-token-ids), so text_offset counts the names' characters, not the text's. Start the scoring server without that flag.")
  }
  const start = codePoints(request.prompt)
  const end = start + codePoints(request.continuation)
  const echoed = Math.min(body.usage?.prompt_tokens ?? offsets.length, offsets.length)
  let shift: number
  if (body.usage) {
    const echoedEnd = echoed < offsets.length ? offsets[echoed]! : echoed > 0 ? offsets[echoed - 1]! + codePoints(logprobs.tokens[echoed - 1]!) : end
    shift = echoedEnd - end
  } else {
    // No usage to find the prompt's end: find the text among the tokens' (a BOS's text may come first).
    const tokensText = logprobs.tokens.join("")
    const at = tokensText.indexOf(request.prompt + request.continuation)
    if (at < 0) return noEcho("its answer has no usage, and its tokens' text does not hold the prompt, so their offsets cannot be placed on the text.")
    shift = codePoints(tokensText.slice(0, at))
  }
  const picked: Array<number> = []
  for (let i = 0; i < echoed; i++) {
    const offset = offsets[i]! - shift
    if (offset < start || offset >= end) continue
    const value = logprobs.token_logprobs[i]
    if (value === null || value === undefined) return noEcho("a continuation token came back without a logprob (is the prompt empty?).")
    picked.push(value)
  }
  return { logprobs: picked, total: picked.reduce((a, b) => a + b, 0) }
}

/** The echo request for one scoring request. */
export const scoreBody = (model: string, request: ScoringRequest, maxTokens: number) => ({
  model,
  prompt: request.prompt + request.continuation,
  echo: true,
  logprobs: 0,
  max_tokens: maxTokens,
  temperature: 0
})
