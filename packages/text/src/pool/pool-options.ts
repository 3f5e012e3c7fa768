import { InvalidPoolOptionError } from "../errors.ts"
import type { ShardQueryNeeds } from "./pool-shard.ts"

/** Options of `RougePool.query`. */
export interface PoolQueryOptions {
  /** A text is a near-duplicate when its max ROUGE-L F is strictly above this (Self-Instruct: 0.7). In [0, 1]. */
  readonly threshold: number
  /**
   * How many nearest pool entries to return, best first (ties: earlier entry first). Entries
   * sharing no token (score 0) appear only to fill up to `topK`, earliest first, as in a full
   * argsort. Default 0.
   */
  readonly topK?: number
  /**
   * Only the accept/reject decision is needed: pairs that cannot exceed `threshold` are skipped,
   * which is much faster. `maxScore` is then exact when it exceeds the threshold and `NaN`
   * otherwise. Not combinable with `topK` > 0 or `meanSimilarity`. Default false.
   */
  readonly decisionOnly?: boolean
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

/** Validates options and says how much work each query needs. */
export const queryNeeds = (options: FilterBatchOptions): ShardQueryNeeds => {
  const { threshold, topK } = validateQueryOptions(options)
  if (options.decisionOnly === true) {
    if (topK > 0 || options.meanSimilarity === true) {
      throw new InvalidPoolOptionError({
        option: "decisionOnly",
        message: "decisionOnly skips the scores that topK and meanSimilarity need: drop decisionOnly, or set topK to 0 and meanSimilarity to false."
      })
    }
    return { mode: "decision", threshold }
  }
  return { mode: options.meanSimilarity === true ? "all" : "top", topK }
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
