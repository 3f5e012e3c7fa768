/**
 * rouge_score's ROUGE-L arithmetic, kept free of imports so that worker threads load only this.
 */

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

