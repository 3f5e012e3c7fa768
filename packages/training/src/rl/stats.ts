/**
 * Batch statistics over ragged per-token arrays (one array per sequence), as RL
 * trainers log them: mean, variance (unbiased where TRL's `masked_var` is),
 * and explained variance of a value head.
 *
 * @example
 * ```ts
 * import { explainedVariance, flatMean } from "@refine-af/training"
 * flatMean([[1, 2], [3]]) // 2
 * explainedVariance([[1, 2, 3]], [[1, 2, 3]]) // 1 (perfect values)
 * ```
 */

/** A batch of per-token values: one array per sequence (lengths may differ). */
export type Ragged = ReadonlyArray<ReadonlyArray<number>>

/** Mean of all entries (0 for an empty batch). */
export const flatMean = (xs: Ragged): number => {
  let sum = 0
  let n = 0
  for (const row of xs) for (const v of row) (sum += v), n++
  return n === 0 ? 0 : sum / n
}

/** Variance of all entries; `unbiased` divides by n − 1 (torch's default), else by n. 0 when fewer than 2 entries. */
export const flatVariance = (xs: Ragged, unbiased = true): number => {
  const m = flatMean(xs)
  let sq = 0
  let n = 0
  for (const row of xs) for (const v of row) (sq += (v - m) * (v - m)), n++
  if (n < 2) return 0
  return sq / (unbiased ? n - 1 : n)
}

/** Mean of a flat list (0 when empty). */
export const mean = (xs: ReadonlyArray<number>): number => flatMean([xs])

/** Standard deviation of a flat list (unbiased by default, 0 below 2 entries). */
export const std = (xs: ReadonlyArray<number>, unbiased = true): number => Math.sqrt(flatVariance([xs], unbiased))

/**
 * Explained variance of value predictions: 1 − Var(returns − values) / Var(returns)
 * (population variances, as TRL and stable-baselines log it). 1 is perfect, 0 is no
 * better than a constant, negative is worse; NaN when the returns are constant.
 */
export const explainedVariance = (values: Ragged, returns: Ragged): number => {
  const residual = returns.map((row, i) => row.map((r, t) => r - values[i]![t]!))
  const varReturns = flatVariance(returns, false)
  return varReturns === 0 ? Number.NaN : 1 - flatVariance(residual, false) / varReturns
}
