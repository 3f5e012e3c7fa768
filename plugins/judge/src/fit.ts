/**
 * Fits a question into a language model's context: when the prompt plus the
 * longest answer is over the context, the sample's output is shortened (kept
 * from the start, cut at a character boundary) until it fits, because the
 * response is what a judge reads first and the rest is boilerplate.
 *
 * @example
 * ```ts
 * import { fitToContext } from "@refine-af/judge"
 * // yield* fitToContext(lm, sample, (s) => `Is "${s.output}" fine?`, [" Yes", " No"])
 * ```
 */
import { Effect } from "effect"
import type { LanguageModelError, LanguageModelService, Sample } from "@refine-af/core"

export interface Fitted {
  readonly prompt: string
  readonly truncated: boolean
}

export const fitToContext = (
  lm: LanguageModelService,
  sample: Sample,
  render: (sample: Sample) => string,
  answers: ReadonlyArray<string>
): Effect.Effect<Fitted, LanguageModelError | { readonly message: string; readonly fix: string }> =>
  Effect.gen(function*() {
    const budget = lm.info.contextLength
    let answerTokens = 0
    for (const answer of answers) answerTokens = Math.max(answerTokens, yield* lm.countTokens(answer))
    const fits = (prompt: string) => Effect.map(lm.countTokens(prompt), (n) => n + answerTokens <= budget)
    const full = render(sample)
    if (yield* fits(full)) return { prompt: full, truncated: false }
    // binary search on the output length in characters
    let lo = 0
    let hi = sample.output.length
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2)
      if (yield* fits(render({ ...sample, output: sample.output.slice(0, mid) }))) lo = mid
      else hi = mid - 1
    }
    const prompt = render({ ...sample, output: sample.output.slice(0, lo) })
    if (!(yield* fits(prompt))) {
      return yield* Effect.fail({
        message: `the question alone (without the response) is over the model's ${budget}-token context`,
        fix: "use a model with a longer context or shorter instructions"
      })
    }
    return { prompt, truncated: true }
  })
