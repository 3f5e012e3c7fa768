/**
 * Deterministic test doubles of the LanguageModel service. `answerWith`
 * decides each generation from the prompt alone, so runs are reproducible and
 * tests can build models of known quality (always right, always wrong, ...).
 */
import { Effect, Stream } from "effect"
import type { FinishReason, GenerationRequest, LanguageModelService } from "@refine-af/core"

export interface ScriptedModel extends LanguageModelService {
  /** Every request seen, in order. */
  readonly requests: Array<GenerationRequest>
}

export const scriptedModel = (
  id: string,
  answerWith: (prompt: string) => string,
  finishWith: (prompt: string) => FinishReason = () => "stop"
): ScriptedModel => {
  const requests: Array<GenerationRequest> = []
  const textOf = (request: GenerationRequest) =>
    typeof request.prompt === "string" ? request.prompt : request.prompt.map((message) => message.content).join("\n")
  return {
    info: { id, contextLength: 4096 },
    requests,
    generate: (batch) =>
      Effect.sync(() => {
        requests.push(...batch)
        return batch.map((request) => {
          const text = answerWith(textOf(request))
          return { text, tokenIds: [], logprobs: [], finishReason: finishWith(textOf(request)), promptTokens: textOf(request).length }
        })
      }),
    stream: () => Stream.empty,
    score: (batch) => Effect.succeed(batch.map(() => ({ tokenIds: [], logprobs: [], total: 0 }))),
    countTokens: (text) => Effect.succeed(text.length)
  }
}

/** The `Input:` line of the instance being asked (the last one in the prompt). */
export const lastInput = (prompt: string): string => {
  const marker = "Now complete the following example -\nInput: "
  const start = prompt.lastIndexOf(marker)
  const rest = prompt.slice(start + marker.length)
  return rest.slice(0, rest.lastIndexOf("\nOutput:"))
}
