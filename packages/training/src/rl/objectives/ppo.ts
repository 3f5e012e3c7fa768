/**
 * The PPO objective of classic RLHF (TRL's `PPOTrainer.loss`): clipped surrogate
 * on the probability ratio, clipped value loss, optional entropy bonus.
 *
 * loss = mean_t max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε))
 *      + c_v · ½ · mean_t max((V − R)², (V_old + clip(V − V_old, −ε_v, ε_v) − R)²)
 *      − c_e · mean_t H,      ρ = exp(log π − log π_old)
 * means over completion tokens of the minibatch. With a ratio threshold (TRL's
 * `ratio_threshold`), a micro-batch whose mean ratio over its tokens exceeds it
 * gets loss 0 (so no gradient), as TRL skips it. Metrics: the two losses (before
 * that gate), the fraction of tokens where the clipped branch is active (policy
 * and value), approx-KL ½·mean (log π − log π_old)², the policy KL mean (log π_old
 * − log π) (TRL's `policykl`, read by early stopping), `ratio_skipped` (1 when
 * the gate zeroed the loss) and the mean entropy (when read).
 *
 * @example
 * ```ts
 * import { ppoObjective, defaultPpoLoss } from "@refine-af/training"
 * const objective = ppoObjective({ ...defaultPpoLoss, entropyCoef: 0.01 })
 * objective.feeds // ["oldLogprobs", "oldValues", "advantages", "returns"]
 * ```
 */
import { add, clip, exp, greater, maximum, mul, neg, not, square, stopGradient, sub, type Tensor } from "@refine-af/tensor"
import type { HeadTensors, Objective } from "../../objective.ts"
import { asFloat, maskedMean } from "./masked.ts"

/** Constants of the PPO loss. */
export interface PpoLossParams {
  /** ε: ratio clip range. */
  readonly clip: number
  /** ε_v: value clip range around the rollout-time value. */
  readonly clipValue: number
  /** c_v: weight of the value loss. */
  readonly valueCoef: number
  /** c_e: weight of the entropy bonus (0 = no entropy head needed). */
  readonly entropyCoef: number
  /** A micro-batch whose masked mean ratio exceeds this gets loss 0 (absent: never). */
  readonly ratioThreshold?: number
}

/** TRL classic PPO's values (`cliprange`, `cliprange_value`, `vf_coef`, `ratio_threshold`); no entropy bonus (TRL has none). */
export const defaultPpoLoss: PpoLossParams = { clip: 0.2, clipValue: 0.2, valueCoef: 0.1, entropyCoef: 0, ratioThreshold: 10 }

export type PpoFeed = "oldLogprobs" | "oldValues" | "advantages" | "returns"

const parts = (p: PpoLossParams, h: HeadTensors, f: Readonly<Record<PpoFeed, Tensor>>) => {
  const values = h.values!
  const logRatio = sub(h.logprobs, f.oldLogprobs)
  const ratio = exp(logRatio)
  const unclipped = mul(neg(f.advantages), ratio)
  const clipped = mul(neg(f.advantages), clip(ratio, 1 - p.clip, 1 + p.clip))
  const valueClipped = add(f.oldValues, clip(sub(values, f.oldValues), -p.clipValue, p.clipValue))
  const valueErr = square(sub(values, f.returns))
  const valueErrClipped = square(sub(valueClipped, f.returns))
  return {
    logRatio,
    policyLoss: maskedMean(maximum(unclipped, clipped), h.mask),
    valueLoss: mul(maskedMean(maximum(valueErr, valueErrClipped), h.mask), 0.5),
    clipFraction: maskedMean(asFloat(greater(clipped, unclipped), ratio), h.mask),
    valueClipFraction: maskedMean(asFloat(greater(valueErrClipped, valueErr), values), h.mask),
    // 1 where the mean ratio is within the threshold (a NaN mean compares false, as in TRL: not skipped).
    kept: p.ratioThreshold === undefined ? undefined : stopGradient(asFloat(not(greater(maskedMean(ratio, h.mask), p.ratioThreshold)), ratio))
  }
}

/** The PPO objective with the given constants. */
export const ppoObjective = (p: PpoLossParams = defaultPpoLoss): Objective<PpoFeed> => ({
  id: `ppo/v1:clip=${p.clip},clipValue=${p.clipValue},valueCoef=${p.valueCoef},entropyCoef=${p.entropyCoef}${p.ratioThreshold === undefined ? "" : `,ratioThreshold=${p.ratioThreshold}`}`,
  heads: p.entropyCoef > 0 ? ["values", "entropy"] : ["values"],
  feeds: ["oldLogprobs", "oldValues", "advantages", "returns"],
  loss: (h, f) => {
    const { policyLoss, valueLoss, kept } = parts(p, h, f)
    const loss = add(policyLoss, mul(valueLoss, p.valueCoef))
    const total = p.entropyCoef > 0 && h.entropy !== undefined ? sub(loss, mul(maskedMean(h.entropy, h.mask), p.entropyCoef)) : loss
    return kept === undefined ? total : mul(total, kept)
  },
  metrics: (h, f) => {
    const m = parts(p, h, f)
    const out: Record<string, Tensor> = {
      policy_loss: stopGradient(m.policyLoss),
      value_loss: stopGradient(m.valueLoss),
      clip_fraction: stopGradient(m.clipFraction),
      value_clip_fraction: stopGradient(m.valueClipFraction),
      approx_kl: stopGradient(mul(maskedMean(square(m.logRatio), h.mask), 0.5)),
      policy_kl: stopGradient(maskedMean(neg(m.logRatio), h.mask))
    }
    if (m.kept !== undefined) out["ratio_skipped"] = stopGradient(sub(1, m.kept))
    if (h.entropy !== undefined) out["entropy"] = stopGradient(maskedMean(h.entropy, h.mask))
    return out
  }
})
