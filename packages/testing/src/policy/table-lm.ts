/**
 * A session's current weights as a plain `LanguageModel`: prompts are encoded
 * after BOS; chat messages use the table policy's template. Each request uses
 * its own random stream (`params.seed`, default 0), so replies are reproducible.
 */
import { Effect, Stream } from "effect"
import { LanguageModelError, type ChatMessage, type GenerationRequest, type LanguageModelService } from "@refine-af/core"
import type { PolicyError } from "@refine-af/training"
import { BOS, type CharTokenizer } from "./char-tokenizer.ts"
import { makeRng } from "./rng.ts"
import { sampleOne } from "./table-sample.ts"
import { logitsAfter, logSoftmaxRow, type TableWeights } from "./table-weights.ts"

/** The table policy's chat template (plain alphabet characters). */
export const renderChat = (messages: ReadonlyArray<ChatMessage>, addGenerationPrompt: boolean): string =>
  messages.map((m) => `${m.role}: ${m.content}\n`).join("") + (addGenerationPrompt ? "assistant: " : "")

const toLmError = (e: PolicyError) =>
  new LanguageModelError({ reason: e.reason === "ContextOverflow" ? "ContextOverflow" : "InvalidRequest", message: e.message, ...(e.fix ? { fix: e.fix } : {}) })

export const tableLanguageModel = (w: TableWeights, tokenizer: CharTokenizer, info: { id: string; contextLength: number }): LanguageModelService => {
  const promptIds = (request: GenerationRequest) =>
    Effect.map(tokenizer.encode(typeof request.prompt === "string" ? request.prompt : renderChat(request.prompt, true)), (ids) => [BOS, ...ids])
  const generateOne = (request: GenerationRequest) =>
    Effect.gen(function* () {
      const prompt = yield* promptIds(request)
      const s = yield* sampleOne(w, tokenizer, info.contextLength, prompt, request.params, makeRng(request.params.seed ?? 0))
      return { text: s.text, tokenIds: s.completion, logprobs: s.logprobs, finishReason: s.finishReason, promptTokens: prompt.length }
    }).pipe(Effect.mapError(toLmError))
  return {
    info,
    generate: (requests) => Effect.forEach(requests, generateOne),
    stream: (request) =>
      Stream.unwrap(
        Effect.map(generateOne(request), (g) =>
          Stream.fromIterable(g.tokenIds.map((tokenId, i) => ({ text: tokenizer.decodeSync([tokenId]), tokenId, logprob: g.logprobs[i]! })))
        )
      ),
    score: (requests) =>
      Effect.forEach(requests, (request) =>
        Effect.gen(function* () {
          const prompt = [BOS, ...(yield* tokenizer.encode(request.prompt))]
          const continuation = yield* tokenizer.encode(request.continuation)
          const all = [...prompt, ...continuation]
          const logprobs = continuation.map((token, k) => logSoftmaxRow(logitsAfter(w, all[prompt.length + k - 1]!, true))[token]!)
          return { tokenIds: continuation, logprobs, total: logprobs.reduce((a, b) => a + b, 0) }
        }).pipe(Effect.mapError(toLmError))
      ),
    countTokens: (text) => Effect.map(tokenizer.encode(text), (ids) => ids.length).pipe(Effect.mapError(toLmError))
  }
}
