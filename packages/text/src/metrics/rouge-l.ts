import { emptyReferences } from "../errors.ts"
import { lcsLengthDP } from "../lcs/lcs-dp.ts"
import { type RougeOptions, rougeTokenize } from "./rouge-tokenize.ts"

/** ROUGE-L precision, recall and F-measure of one prediction against one target. */
export interface RougeLScore {
  readonly precision: number
  readonly recall: number
  readonly fmeasure: number
}

/**
 * rouge_score's `_score_lcs` arithmetic from an LCS length and the two token counts. The
 * operation order matters: `2*p*r/(p+r)` rounds the exact ratio 0.7 to 0.7000000000000001 or
 * 0.6999999999999998 depending on the counts, and Self-Instruct's `> 0.7` test depends on it.
 * `2*lcs/(m+n)` would be mathematically equal and flip those decisions.
 */
export const rougeLFromLcs = (lcs: number, predictionLength: number, targetLength: number): RougeLScore => {
  if (predictionLength === 0 || targetLength === 0) return { precision: 0, recall: 0, fmeasure: 0 }
  const precision = lcs / predictionLength
  const recall = lcs / targetLength
  return { precision, recall, fmeasure: fMeasure(precision, recall) }
}

/**
 * Just the F-measure of `rougeLFromLcs`, allocation-free for hot loops; the same operations in
 * the same order, so the same bits.
 */
export const rougeLFMeasure = (lcs: number, predictionLength: number, targetLength: number): number =>
  predictionLength === 0 || targetLength === 0 ? 0 : fMeasure(lcs / predictionLength, lcs / targetLength)

/** rouge_score's `scoring.fmeasure`: harmonic mean, 0 when both are 0. */
export const fMeasure = (precision: number, recall: number): number =>
  precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0

/**
 * ROUGE-L of a prediction against one target, bit-identical to
 * `RougeScorer(["rougeL"], use_stemmer=stem).score(target, prediction)["rougeL"]`.
 *
 * @example
 * ```ts
 * import { rougeL } from "@refine-af/text"
 * rougeL("the cat sat", "the cat sat down").fmeasure // 0.8571428571428571
 * ```
 */
export const rougeL = (prediction: string, target: string, options?: RougeOptions): RougeLScore => {
  const predictionTokens = rougeTokenize(prediction, options)
  const targetTokens = rougeTokenize(target, options)
  return rougeLFromLcs(lcsLengthDP(predictionTokens, targetTokens), predictionTokens.length, targetTokens.length)
}

/**
 * Max ROUGE-L F-measure over references (SuperNI's `metric_max_over_ground_truths`). Throws
 * `EmptyReferencesError` on an empty list, like Python's `max([])`.
 *
 * @example
 * ```ts
 * import { rougeLMax } from "@refine-af/text"
 * rougeLMax("Paris", ["paris", "Paris, France"], { stem: true }) // 1
 * ```
 */
export const rougeLMax = (prediction: string, references: ReadonlyArray<string>, options?: RougeOptions): number => {
  if (references.length === 0) throw emptyReferences("rougeLMax")
  const predictionTokens = rougeTokenize(prediction, options)
  let best = -Infinity
  for (const reference of references) {
    const targetTokens = rougeTokenize(reference, options)
    const lcs = lcsLengthDP(predictionTokens, targetTokens)
    best = Math.max(best, rougeLFromLcs(lcs, predictionTokens.length, targetTokens.length).fmeasure)
  }
  return best
}
