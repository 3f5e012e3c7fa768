/**
 * Sequence-level advantages from groups of k samples of the same prompt (no value
 * head). Rewards are laid out group after group: `rewards[g·k + j]`.
 * - GRPO (Shao et al. 2024): A = (r − mean_group) / (std + ε), unbiased std as
 *   TRL's GRPO trainer, by `scale` (TRL's `scale_rewards`): `group` (default,
 *   the group's std), `batch` (the std of all the batch's rewards, still centred
 *   on the group's mean: PPO Lite), `none` (Dr. GRPO's centring only).
 * - RLOO (Ahmadian et al. 2024): A_i = r_i − mean of the other k − 1 rewards.
 *
 * @example
 * ```ts
 * import { grpoAdvantages, rlooAdvantages } from "@refine-af/training"
 * rlooAdvantages([1, 0, 0, 1], 2) // [1, -1, -1, 1]
 * grpoAdvantages([1, 0, 0, 0], 4)[0] // (1 − 0.25) / (0.5 + 1e-4)
 * ```
 */
import { mean, std } from "./stats.ts"

const groups = (rewards: ReadonlyArray<number>, k: number): Array<ReadonlyArray<number>> => {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`group size must be a positive integer, got ${k}`)
  if (rewards.length % k !== 0) throw new RangeError(`${rewards.length} rewards do not split into groups of ${k}`)
  const out: Array<ReadonlyArray<number>> = []
  for (let g = 0; g < rewards.length; g += k) out.push(rewards.slice(g, g + k))
  return out
}

/** How GRPO scales centred rewards (TRL's `scale_rewards`). */
export type RewardScale = "group" | "batch" | "none"

/** GRPO group-normalised advantages. */
export const grpoAdvantages = (rewards: ReadonlyArray<number>, k: number, options: { readonly scale?: RewardScale; readonly epsilon?: number } = {}): Array<number> => {
  const eps = options.epsilon ?? 1e-4
  const scale = options.scale ?? "group"
  const batchStd = scale === "batch" && rewards.length > 1 ? std(rewards, true) : 0
  return groups(rewards, k).flatMap((g) => {
    const m = mean(g)
    const s = scale === "none" ? 1 : (scale === "batch" ? batchStd : std(g, true)) + eps
    return g.map((r) => (r - m) / s)
  })
}

/** RLOO leave-one-out advantages; needs k ≥ 2. */
export const rlooAdvantages = (rewards: ReadonlyArray<number>, k: number): Array<number> => {
  if (k < 2) throw new RangeError(`RLOO needs at least 2 samples per prompt, got ${k}`)
  return groups(rewards, k).flatMap((g) => {
    const total = g.reduce((a, r) => a + r, 0)
    return g.map((r) => r - (total - r) / (k - 1))
  })
}
