import { InvalidPoolOptionError } from "../errors.ts"

/** Options of `RougePool.query`. */
export interface PoolQueryOptions {
  /** A text is a near-duplicate when its max ROUGE-L F is strictly above this (Self-Instruct: 0.7). In [0, 1]. */
  readonly threshold: number
  /** How many nearest pool entries to return (entries with score 0 are never listed). Default 0. */
  readonly topK?: number
}

/** Options of `RougePool.filterBatch`. */
export interface FilterBatchOptions extends PoolQueryOptions {
  /**
   * Also report each candidate's mean F over the whole pool (Self-Instruct's
   * `avg_similarity_score`). Costly: it disables pruning, every pair sharing a token is scored.
   */
  readonly meanSimilarity?: boolean
}

/** Checks query options, throwing `InvalidPoolOptionError` with the fix. */
export const validateQueryOptions = (options: PoolQueryOptions): { threshold: number; topK: number } => {
  const { threshold, topK = 0 } = options
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new InvalidPoolOptionError({
      option: "threshold",
      message: `threshold must be a number in [0, 1] (Self-Instruct uses 0.7), got ${String(threshold)}.`
    })
  }
  requireCount("topK", topK, 0)
  return { threshold, topK }
}

/** Checks an integer option against a minimum, throwing `InvalidPoolOptionError` with the fix. */
export const requireCount = (option: string, value: number, minimum: number): number => {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new InvalidPoolOptionError({
      option,
      message: `${option} must be an integer ≥ ${minimum}, got ${String(value)}.`
    })
  }
  return value
}
