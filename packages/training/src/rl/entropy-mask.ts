/**
 * The high-entropy token mask of Wang et al. 2025 ("Beyond the 80/20 rule":
 * train on the forking tokens only; TRL's `top_entropy_quantile` ρ): among the
 * batch's valid completion tokens, keep those whose entropy is at least the
 * (1 − ρ) quantile of their entropies (linear interpolation between order
 * statistics, as `torch.quantile`). ρ = 1 keeps every valid token, ρ = 0 only
 * the highest-entropy one(s); invalid tokens (weight 0) are never kept.
 *
 * @example
 * ```ts
 * import { highEntropyMask } from "@refine-af/training"
 * highEntropyMask([[0.1, 2, 0.5], [3]], [[1, 1, 1], [1]], 0.5) // [[0, 1, 0], [1]]
 * ```
 */

/** The q-quantile (0 ≤ q ≤ 1) of `xs`, linear between order statistics (`torch.quantile`'s default). */
export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  if (xs.length === 0) throw new RangeError("quantile of no values")
  const sorted = [...xs].sort((a, b) => a - b)
  const at = q * (sorted.length - 1)
  const lo = Math.floor(at)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo)
}

/** 1 on the valid tokens (`valid` 1) whose entropy reaches the (1 − ρ) quantile of the valid ones, else 0. */
export const highEntropyMask = (entropies: ReadonlyArray<ReadonlyArray<number>>, valid: ReadonlyArray<ReadonlyArray<number>>, rho: number): Array<Array<number>> => {
  if (!(rho >= 0 && rho <= 1)) throw new RangeError(`the kept share of tokens must lie in [0, 1], got ${rho}`)
  const values = entropies.flatMap((row, i) => row.filter((_, t) => valid[i]![t] === 1))
  if (values.length === 0) return entropies.map((row) => row.map(() => 0))
  const threshold = quantile(values, 1 - rho)
  return entropies.map((row, i) => row.map((e, t) => (valid[i]![t] === 1 && e >= threshold ? 1 : 0)))
}
