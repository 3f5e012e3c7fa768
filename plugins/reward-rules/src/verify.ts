/**
 * `rules/verify` — a `Scorer` that checks answers of procedural tasks whose
 * answer follows from the input (arithmetic, sorting, counting, parity,
 * comparisons, string edits; see `checks.ts`). A programmatic verifier as
 * automated feedback: where an instruction is recognised, the sample's output
 * is right or wrong; elsewhere the scorer abstains.
 *
 * Score = the option for the verdict (`correct` 1, `wrong` 0, `badInput` 0,
 * `unchecked` 0 by default). Parts: `checked` (1 when a check recognised the
 * task), `correct` (1 when the output is right), `bad_input` (1 when the
 * input does not fit the task).
 *
 * @example
 * ```yaml
 * verify: { _component_: rules/verify, wrong: -0.5, unchecked: 0 }
 * ```
 */
import { Effect, Schema } from "effect"
import { defineResource, Scorer, withDefault, type ScorerService } from "@refine-af/core"
import { checkAnswer } from "./checks.ts"

/** What an absent option means: the Schema fills these in; options built by hand fall back to the same values. */
export const verifyDefaults = { correct: 1, wrong: 0, badInput: 0, unchecked: 0 } as const

export const VerifyOptions = Schema.Struct({
  correct: Schema.Finite.annotate({ description: "Score of a right answer." }).pipe(withDefault(verifyDefaults.correct)),
  wrong: Schema.Finite.annotate({ description: "Score of a wrong answer." }).pipe(withDefault(verifyDefaults.wrong)),
  badInput: Schema.Finite.annotate({ description: "Score when the task is recognised but the input does not fit it, e.g. three numbers for \"add the two numbers\"." }).pipe(withDefault(verifyDefaults.badInput)),
  unchecked: Schema.Finite.annotate({ description: "Score when no check recognises the instruction." }).pipe(withDefault(verifyDefaults.unchecked))
})
export type VerifyOptions = typeof VerifyOptions.Type

/** The verifying scorer for decoded options. */
export const makeVerifyScorer = (name: string, options: VerifyOptions): ScorerService => {
  const values = { correct: options.correct ?? verifyDefaults.correct, wrong: options.wrong ?? verifyDefaults.wrong, "bad-input": options.badInput ?? verifyDefaults.badInput, unchecked: options.unchecked ?? verifyDefaults.unchecked }
  return {
    name,
    score: (samples) =>
      Effect.sync(() =>
        samples.map((sample) => {
          const { verdict } = checkAnswer(sample)
          return {
            value: values[verdict],
            parts: { checked: verdict === "unchecked" ? 0 : 1, correct: verdict === "correct" ? 1 : 0, bad_input: verdict === "bad-input" ? 1 : 0 }
          }
        })
      )
  }
}

export const verifyScorerResource = defineResource({
  description: "Checks answers of procedural tasks (arithmetic, sorting, counting, parity, comparisons, string edits) recognised from the instruction: right, wrong, bad input, or unchecked.",
  provides: Scorer,
  options: VerifyOptions,
  make: (ctx) => Effect.succeed(makeVerifyScorer(ctx.name, ctx.options))
})
