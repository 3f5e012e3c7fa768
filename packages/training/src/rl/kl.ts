/**
 * Per-token KL estimators between the policy and the reference (Schulman,
 * "Approximating KL divergence", 2020), with r = log π_ref − log π:
 * k1 = −r (unbiased, can be negative), k2 = r²/2, k3 = (e^r − 1) − r (unbiased, ≥ 0).
 * And the per-token KL-shaped rewards of classic RLHF PPO (Ziegler et al. 2019,
 * TRL's `compute_rewards`): every token gets −β·KL_t, the last token also the score.
 *
 * @example
 * ```ts
 * import { klEstimate, klShapedRewards } from "@refine-af/training"
 * klEstimate("k3", -1.2, -1.0) // e^0.2 − 1 − 0.2
 * klShapedRewards([1], [[-1, -2]], [[-1.5, -2]], 0.1, "k1") // [[-0.05, 1]]
 * ```
 */
import type { Ragged } from "./stats.ts"

/** Which KL estimator. */
export type KlEstimator = "k1" | "k2" | "k3"

/** One token's KL estimate from the policy's and the reference's log-probability of the sampled token. */
export const klEstimate = (estimator: KlEstimator, logprob: number, refLogprob: number): number => {
  const r = refLogprob - logprob
  switch (estimator) {
    case "k1":
      return -r
    case "k2":
      return 0.5 * r * r
    case "k3":
      return Math.expm1(r) - r
  }
}

/** Per-token estimates for a batch of sequences. */
export const klPerToken = (estimator: KlEstimator, logprobs: Ragged, refLogprobs: Ragged): Array<Array<number>> =>
  logprobs.map((row, i) => row.map((lp, t) => klEstimate(estimator, lp, refLogprobs[i]![t]!)))

/** Mean over sequences of the per-sequence KL sum (what TRL logs as `objective/kl`). */
export const meanSequenceKl = (estimator: KlEstimator, logprobs: Ragged, refLogprobs: Ragged): number => {
  const perToken = klPerToken(estimator, logprobs, refLogprobs)
  return perToken.length === 0 ? 0 : perToken.reduce((a, row) => a + row.reduce((s, v) => s + v, 0), 0) / perToken.length
}

/**
 * Per-token rewards −β·KL_t, plus the sequence's scalar score on its last
 * token. A sequence with no response tokens gets an empty row (its score has
 * nowhere to go; callers should not train on it).
 */
export const klShapedRewards = (
  scores: ReadonlyArray<number>,
  logprobs: Ragged,
  refLogprobs: Ragged,
  beta: number,
  estimator: KlEstimator = "k1"
): Array<Array<number>> =>
  klPerToken(estimator, logprobs, refLogprobs).map((row, i) => {
    const rewards = row.map((kl) => -beta * kl)
    if (rewards.length > 0) rewards[rewards.length - 1]! += scores[i]!
    return rewards
  })
