/**
 * `rules/scorer` — a `Scorer` that applies text rules to one field of each
 * (instruction, input, output) sample (the output by default).
 *
 * @example
 * ```yaml
 * quality: { _component_: rules/scorer, field: output, rules: [{ kind: ends-with-period }, { kind: contains-digit, weight: 0.5 }] }
 * ```
 */
import { Effect, Schema } from "effect"
import { defineResource, Scorer, type ScorerService } from "@refine-af/core"
import { RuleSet, scoreText } from "./rules.ts"

export const RuleScorerOptions = Schema.Struct({
  ...RuleSet.fields,
  /** Which field of the sample the rules read. */
  field: Schema.optionalKey(Schema.Literals(["output", "input", "instruction"])).annotate({ description: "Which field of the sample the rules read." })
})
export type RuleScorerOptions = typeof RuleScorerOptions.Type

/** The scorer service for decoded options. */
export const makeRuleScorer = (name: string, options: RuleScorerOptions): ScorerService => ({
  name,
  score: (samples) => Effect.sync(() => samples.map((s) => scoreText(options, s[options.field ?? "output"])))
})

export const ruleScorerResource = defineResource({
  description: "Scores (instruction, input, output) samples with weighted text rules (contains-digit, ends-with-period, regex, non-empty) on one field.",
  provides: Scorer,
  options: RuleScorerOptions,
  make: (ctx) => Effect.succeed(makeRuleScorer(ctx.name, ctx.options))
})
