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
import { defineResource, Scorer, type Sample, type Score, type ScorerService } from "@refine-af/core"
import { copiesInput, type ExpectedFormat, formatValid, instructionOverlap, repetition, words } from "./measures.ts"

/** The part names of `reward/heuristics`. */
export const heuristicParts = ["words", "repetition", "format_valid", "overlap", "empty", "copy", "pass"] as const
export type HeuristicPart = (typeof heuristicParts)[number]

/** Options of `reward/heuristics`. */
export const HeuristicsOptions = Schema.Struct({
  /** What a well-formed output is: `text` (default), `json`, `single_line`. */
  format: Schema.optionalKey(Schema.Literals(["text", "json", "single_line"])).annotate({ description: "What a well-formed output is: `text` (default), `json`, `single_line`." }),
  /** n of the repeated n-grams (default 3). */
  ngram: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))).annotate({ description: "n of the repeated n-grams (default 3)." }),
  /** ROUGE-L F at or above which an output counts as a copy of the input/instruction (default 0.9). */
  copy_threshold: Schema.optionalKey(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))).annotate({ description: "ROUGE-L F at or above which an output counts as a copy of the input/instruction (default 0.9)." }),
  /** Largest `repetition` that still passes (default 0.5). */
  max_repetition: Schema.optionalKey(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))).annotate({ description: "Largest `repetition` that still passes (default 0.5)." }),
  /** Output length bounds in words for `pass` (default 1 .. 1000). */
  min_words: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))).annotate({ description: "Output length bounds in words for `pass` (default 1 .. 1000)." }),
  max_words: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))).annotate({ description: "Upper bound of the output length in words for `pass` (default 1000)." }),
  /** The part reported as the score's `value` (default `pass`). */
  value: Schema.optionalKey(Schema.Literals(heuristicParts)).annotate({ description: "The part reported as the score's `value` (default `pass`)." })
})
export type HeuristicsOptions = typeof HeuristicsOptions.Type

/** The heuristic parts of one sample. */
export const heuristicScore = (sample: Sample, options: HeuristicsOptions = {}): Score => {
  const count = words(sample.output).length
  const repeated = repetition(sample.output, options.ngram ?? 3)
  const valid = formatValid(sample.output, (options.format ?? "text") as ExpectedFormat)
  const empty = sample.output.trim().length === 0
  const copy = copiesInput(sample, options.copy_threshold ?? 0.9)
  const pass = !empty && !copy && valid && repeated <= (options.max_repetition ?? 0.5) &&
    count >= (options.min_words ?? 1) && count <= (options.max_words ?? 1000)
  const parts: Record<HeuristicPart, number> = {
    words: count,
    repetition: repeated,
    format_valid: valid ? 1 : 0,
    overlap: instructionOverlap(sample.output, sample.instruction),
    empty: empty ? 1 : 0,
    copy: copy ? 1 : 0,
    pass: pass ? 1 : 0
  }
  return { value: parts[options.value ?? "pass"], parts }
}

/** A heuristics `ScorerService` (no model, no cache needed). */
export const makeHeuristicsScorer = (options: HeuristicsOptions = {}, name = "reward/heuristics"): ScorerService => ({
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
