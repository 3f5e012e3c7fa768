/**
 * Per-instance SuperNI metrics, through the official-parity scorers of
 * `@refine-af/text`: ROUGE-L F-measure with Porter stemming (max over the
 * references) and exact match after `normalize_answer` (max over references).
 * Values are unscaled (0..1), exactly what the official code computes per case;
 * aggregates are scaled by 100 (see `aggregate.ts`).
 *
 * @example
 * ```ts
 * import { scoreInstance } from "@refine-af/eval-superni"
 * scoreInstance("Yes.", ["yes"]) // { rougeL: 1, exactMatch: 1 }
 * ```
 */
import { exactMatch, rougeLMax } from "@refine-af/text"

/** The two official per-instance metrics. */
export interface InstanceScores {
  /** ROUGE-L F-measure with stemming, max over references, in 0..1. */
  readonly rougeL: number
  /** 1 when the normalized prediction equals a normalized reference. */
  readonly exactMatch: 0 | 1
}

/** Scores one prediction against its references (which must be non-empty; the readers guarantee it). */
export const scoreInstance = (prediction: string, references: ReadonlyArray<string>): InstanceScores => ({
  rougeL: rougeLMax(prediction, references, { stem: true }),
  exactMatch: exactMatch(prediction, references)
})
