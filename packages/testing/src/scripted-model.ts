/**
 * A deterministic test double of the `LanguageModel` service: a function of
 * the request decides each reply, so tests can build models of known
 * behaviour (always right, always cut by the length limit, adversarial...).
 * It keeps every request it saw. Streaming streams the reply word by word;
 * scoring returns one pseudo-token per word, with a log-probability that
 * depends only on the word.
 *
 * @example
 * ```ts
 * import { scriptedLanguageModel } from "@refine-af/testing"
 * const model = scriptedLanguageModel((request) => ({ text: "Yes" }))
 * ```
 */
import { Effect, Stream } from "effect"
import type { FinishReason, GenerationRequest, LanguageModelService } from "@refine-af/core"

export interface ScriptedReply {
  readonly text: string
  readonly finishReason?: FinishReason
}

export interface ScriptedLanguageModel extends LanguageModelService {
  /** Every generation request seen, in order. */
  readonly requests: Array<GenerationRequest>
}

/** The prompt as plain text (chat messages joined by newlines). */
export const promptText = (request: GenerationRequest): string =>
  typeof request.prompt === "string" ? request.prompt : request.prompt.map((message) => message.content).join("\n")

const words = (text: string): string[] => text.split(/(?<=\s)/).filter((piece) => piece.length > 0)

const wordLogprob = (word: string): number => {
  let h = 2166136261
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619)
  return -1 - ((h >>> 0) % 1000) / 250
}

export const scriptedLanguageModel = (
  respond: (request: GenerationRequest, index: number) => ScriptedReply,
  options: { readonly id?: string; readonly contextLength?: number } = {}
): ScriptedLanguageModel => {
  const requests: Array<GenerationRequest> = []
  const reply = (request: GenerationRequest) => {
    const answer = respond(request, requests.length)
    requests.push(request)
    return answer
  }
  return {
    requests,
    info: { id: options.id ?? "scripted-test-model", contextLength: options.contextLength ?? 4096 },
    generate: (batch) =>
      Effect.sync(() =>
        batch.map((request) => {
          const answer = reply(request)
          const pieces = words(answer.text)
          return {
            text: answer.text,
            tokenIds: pieces.map((_, i) => i),
            logprobs: pieces.map(wordLogprob),
            finishReason: answer.finishReason ?? "stop",
            promptTokens: words(promptText(request)).length
          }
        })
      ),
    stream: (request) =>
      Stream.suspend(() =>
        Stream.fromIterable(words(reply(request).text).map((text, tokenId) => ({ text, tokenId, logprob: wordLogprob(text) })))
      ),
    score: (batch) =>
      Effect.sync(() =>
        batch.map(({ continuation }) => {
          const logprobs = words(continuation).map(wordLogprob)
          return { tokenIds: logprobs.map((_, i) => i), logprobs, total: logprobs.reduce((sum, value) => sum + value, 0) }
        })
      ),
    countTokens: (text) => Effect.succeed(words(text).length)
  }
}
