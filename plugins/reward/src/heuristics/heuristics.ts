/**
 * `reward/heuristics`: a `Scorer` of model-free heuristics. Every score has the
 * parts `words` (output length), `repetition` (share of repeated word n-grams),
 * `format_valid`, `overlap` (ROUGE-L F with the instruction), `empty`, `copy`
 * (output copies the input or instruction) and `pass` (1 when the output is
 * non-empty, no copy, well-formed, not too repetitive and within the length
 * bounds). `value` is the part named by the `value` option (default `pass`).
 *
 * @example
 * ```yaml
 * resources:
 *   checks: { _component_: reward/heuristics, format: text, max_repetition: 0.5, value: pass }
 * ```
 */
import { Effect, Schema } from "effect"
import { defineResource, type Sample, type Score, Scorer, type ScorerService, withDefault } from "@refine-af/core"
import { copiesInput, type ExpectedFormat, formatValid, instructionOverlap, repetition, words } from "./measures.ts"

/** The part names of `reward/heuristics`. */
export const heuristicParts = ["words", "repetition", "format_valid", "overlap", "empty", "copy", "pass"] as const
export type HeuristicPart = (typeof heuristicParts)[number]


/** What an absent option means: the recipe's Schema and `heuristicScore` (which takes the options as a recipe writes them) share these. */
const defaults = { format: "text", ngram: 3, copy_threshold: 0.9, max_repetition: 0.5, min_words: 1, max_words: 1000, value: "pass" } as const

/** Options of `reward/heuristics`. */
export const HeuristicsOptions = Schema.Struct({
  /** What a well-formed output is: `text`, `json`, `single_line`. */
  format: Schema.Literals(["text", "json", "single_line"]).annotate({ description: "What a well-formed output is: `text`, `json`, `single_line`." }).pipe(withDefault(defaults.format)),
  /** n of the repeated n-grams. */
  ngram: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({ description: "n of the repeated n-grams." }).pipe(withDefault(defaults.ngram)),
  /** ROUGE-L F at or above which an output counts as a copy of the input/instruction. */
  copy_threshold: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })).annotate({ description: "ROUGE-L F at or above which an output counts as a copy of the input/instruction." }).pipe(withDefault(defaults.copy_threshold)),
  /** Largest `repetition` that still passes. */
  max_repetition: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })).annotate({ description: "Largest `repetition` that still passes." }).pipe(withDefault(defaults.max_repetition)),
  /** Output length bounds in words for `pass`. */
  min_words: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "Lower bound of the output length in words for `pass`." }).pipe(withDefault(defaults.min_words)),
  max_words: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({ description: "Upper bound of the output length in words for `pass`." }).pipe(withDefault(defaults.max_words)),
  /** The part reported as the score's `value`. */
  value: Schema.Literals(heuristicParts).annotate({ description: "The part reported as the score's `value`." }).pipe(withDefault(defaults.value))
})
export type HeuristicsOptions = typeof HeuristicsOptions.Type

/** The heuristic parts of one sample. */
export const heuristicScore = (sample: Sample, options: typeof HeuristicsOptions.Encoded = {}): Score => {
  const count = words(sample.output).length
  const repeated = repetition(sample.output, options.ngram ?? defaults.ngram)
  const valid = formatValid(sample.output, (options.format ?? defaults.format) as ExpectedFormat)
  const empty = sample.output.trim().length === 0
  const copy = copiesInput(sample, options.copy_threshold ?? defaults.copy_threshold)
  const pass = !empty && !copy && valid && repeated <= (options.max_repetition ?? defaults.max_repetition) &&
    count >= (options.min_words ?? defaults.min_words) && count <= (options.max_words ?? defaults.max_words)
  const parts: Record<HeuristicPart, number> = {
    words: count,
    repetition: repeated,
    format_valid: valid ? 1 : 0,
    overlap: instructionOverlap(sample.output, sample.instruction),
    empty: empty ? 1 : 0,
    copy: copy ? 1 : 0,
    pass: pass ? 1 : 0
  }
  return { value: parts[options.value ?? defaults.value], parts }
}

/** A heuristics `ScorerService` (no model, no cache needed). */
export const makeHeuristicsScorer = (options: typeof HeuristicsOptions.Encoded = {}, name = "reward/heuristics"): ScorerService => ({
  name,
  score: (samples) => Effect.sync(() => samples.map((sample) => heuristicScore(sample, options)))
})

/** The `reward/heuristics` resource component. */
export const heuristics = defineResource({
  description: "Model-free heuristic scorer: output length, repetition, format validity, overlap with the instruction, empty output, copy of the input; value = the `value` part (default pass).",
  provides: Scorer,
  options: HeuristicsOptions,
  make: (ctx) => Effect.succeed(makeHeuristicsScorer(ctx.options, `reward/heuristics (${ctx.name})`))
})
