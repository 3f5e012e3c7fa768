/**
 * Fits a prompt into the model's window, the way Tk-Instruct builds its
 * sources: demonstrations are dropped (last first) while the prompt is too
 * long, and only then is the instance input shortened, keeping its leading
 * words, so the "Output:" cue at the end always survives.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { fitPrompt, makePromptEncoder } from "@refine-af/eval-superni"
 * declare const task: import("@refine-af/eval-superni").SuperNiTask
 * const encode = Effect.runSync(makePromptEncoder({ positiveExamples: 2 }))
 * const fitted = fitPrompt({ encode, task, instance: task.instances[0]!, examples: 2, budget: 512, countTokens: (text) => Effect.succeed(text.length / 4) })
 * ```
 */
import { Effect } from "effect"
import type { SuperNiInstance, SuperNiTask } from "../data/task.ts"
import type { PromptEncoder } from "./template.ts"

/** What to fit and how to measure it. */
export interface FitPromptRequest<E> {
  readonly encode: PromptEncoder
  readonly task: SuperNiTask
  readonly instance: SuperNiInstance
  /** Demonstrations wanted. */
  readonly examples: number
  /** Most prompt tokens allowed. */
  readonly budget: number
  readonly countTokens: (text: string) => Effect.Effect<number, E>
}

/** The fitted prompt and what had to give way. */
export interface FittedPrompt {
  readonly prompt: string
  readonly examples: number
  /** True when the instance input was shortened (after dropping every demonstration). */
  readonly inputTruncated: boolean
  /** False when even the definition with an empty input exceeds the budget (the prompt is sent as short as it gets). */
  readonly fits: boolean
}

/** Shortens the prompt until `countTokens(prompt) <= budget`. */
export const fitPrompt = <E>(request: FitPromptRequest<E>): Effect.Effect<FittedPrompt, E> =>
  Effect.gen(function*() {
    const { budget, countTokens, encode, task } = request
    for (let examples = request.examples; examples >= 0; examples--) {
      const prompt = encode(task, request.instance, examples)
      if ((yield* countTokens(prompt)) <= budget) return { prompt, examples, inputTruncated: false, fits: true }
    }
    // Binary search on the number of leading input words that still fit.
    const words = request.instance.input.trim().split(/\s+/)
    const withWords = (count: number) => encode(task, { ...request.instance, input: words.slice(0, count).join(" ") }, 0)
    let low = 0
    let high = words.length - 1
    if ((yield* countTokens(withWords(0))) > budget) return { prompt: withWords(0), examples: 0, inputTruncated: true, fits: false }
    while (low < high) {
      const middle = Math.ceil((low + high) / 2)
      if ((yield* countTokens(withWords(middle))) <= budget) low = middle
      else high = middle - 1
    }
    return { prompt: withWords(low), examples: 0, inputTruncated: true, fits: true }
  })
