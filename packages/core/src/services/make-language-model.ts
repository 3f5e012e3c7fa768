/**
 * `makeLanguageModel`: a complete `LanguageModelService` from the operations a
 * provider really has. A remote server that only generates text gets a
 * `stream` that yields each whole generation as one chunk, and `score` /
 * `countTokens` that fail with reason `"Unsupported"` (naming the model and
 * the operation), so consumers can tell "cannot" from "failed".
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { makeLanguageModel } from "@refine-af/core"
 * const echo = makeLanguageModel({
 *   info: { id: "echo", contextLength: 2048 },
 *   generate: (requests) =>
 *     Effect.succeed(requests.map((request) => ({
 *       text: typeof request.prompt === "string" ? request.prompt : "",
 *       finishReason: "stop" as const,
 *       promptTokens: 0
 *     })))
 * })
 * ```
 */
import { Effect, Stream } from "effect"
import { LanguageModelError, type LanguageModelService } from "./LanguageModel.ts"

/** What a provider must give (`info`, `generate`) and what it may (everything else). */
export type LanguageModelParts =
  & Pick<LanguageModelService, "info" | "generate">
  & Partial<Pick<LanguageModelService, "stream" | "score" | "countTokens">>

/** The `Unsupported` error of `operation` on model `id`. */
export const unsupported = (id: string, operation: string, fix?: string): LanguageModelError =>
  new LanguageModelError({
    reason: "Unsupported",
    message: `model "${id}" does not support ${operation}`,
    fix: fix ?? `use a model resource that supports ${operation} (e.g. model-llama/hf) for this slot`
  })

/** A full `LanguageModelService`: missing operations get the defaults described above. */
export const makeLanguageModel = (parts: LanguageModelParts): LanguageModelService => {
  const { info, generate } = parts
  return {
    info,
    generate,
    stream: parts.stream ?? ((request) =>
      Stream.fromEffect(generate([request])).pipe(
        Stream.flatMap((generations) => Stream.fromIterable(generations)),
        Stream.map((generation) => ({ text: generation.text, finish: { reason: generation.finishReason, promptTokens: generation.promptTokens } }))
      )),
    score: parts.score ?? ((requests) => requests.length === 0 ? Effect.succeed([]) : Effect.fail(unsupported(info.id, "continuation scoring"))),
    countTokens: parts.countTokens ?? (() => Effect.fail(unsupported(info.id, "token counting")))
  }
}
