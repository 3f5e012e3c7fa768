/**
 * The policy-gradient objective of the group algorithms (GRPO, RLOO): the
 * clipped surrogate on a per-sequence advantage (fed on every token of the
 * sequence), plus β times the k3 KL estimator to the reference policy inside the
 * loss (no value head, no KL-shaped reward):
 *
 * ℓ_t = −min(ρ·A, clip(ρ, 1−ε, 1+ε_high)·A) + β·(e^{log π_ref − log π} − (log π_ref − log π) − 1)
 *
 * With one update per batch ρ = 1 in value and this is REINFORCE with a baseline;
 * the clip matters for several updates per batch; ε_high (DAPO's "clip-higher",
 * TRL's `epsilon_high`) defaults to ε. Aggregation: `sequence` (GRPO's paper and
 * TRL's `loss_type: grpo`: token mean per sequence, then mean over sequences),
 * `token` (mean over all completion tokens of the batch: DAPO, TRL's `bnpo` and
 * RLOO) or `constant` (Dr. GRPO, TRL's `dr_grpo`: the sum over tokens divided by
 * sequences × a constant length, the most new tokens, so no length bias). With
 * `maskTruncated` (DAPO; TRL's `mask_truncated_completions`) a per-token `keep`
 * feed (0 on completions cut off by the token limit) multiplies the mask: those
 * completions add nothing to the loss, its token counts or the metrics. With
 * `importanceSampling: sequence` (GSPO, Zheng et al. 2025; TRL's
 * `importance_sampling_level: sequence`) ρ is one number per sequence,
 * e^(mean over its tokens of log π − log π_old), clipped as a whole.
 *
 * The policy term has three forms (`policyLoss`, TRL's `loss_type` families):
 * - `clip` (PPO's, above); `delta` (INTELLECT-2's two-sided clipping, TRL's
 *   `delta`) also caps the unclipped ratio at δ, so a negative advantage cannot
 *   be multiplied by an unbounded ratio;
 * - `cispo` (MiniMax-M1; TRL `cispo`): −sg(min(ρ, ε_max))·A·log π — the
 *   importance weight is clipped and detached, every token keeps a gradient;
 * - `sapo` (Soft Adaptive Policy Optimization; TRL `sapo`): −σ(τ(ρ − 1))·(4/τ)·A,
 *   a smooth gate instead of the hard clip, τ per sign of the advantage
 *   (its slope at ρ = 1 is 1, so on-policy it is the plain policy gradient).
 *
 * With `highEntropy` (Wang et al. 2025, "Beyond the 80/20 rule"; TRL's
 * `top_entropy_quantile`) a per-token 0/1 feed multiplies the policy term only:
 * the other tokens add 0 but still count in the aggregation's denominators, and
 * the KL term stays on every token. `entropyCoef` c subtracts c × the mean
 * entropy over the same tokens (TRL's `entropy_coef`: the mean per token whatever
 * the aggregation). With `entropyWeight` the coefficient is a per-token feed
 * instead of a constant (adaptive entropy control changes it every update
 * without recompiling), and the metric `kept_entropy` reports that mean.
 *
 * From DeepSeek-V3.2 (TRL's `off_policy_mask_threshold`, `use_bias_correction_kl`):
 * `offPolicyMask` δ drops the policy term of a sequence whose advantage is
 * negative and whose mean log π_old − log π over its tokens exceeds δ (it has
 * drifted too far off the sampling policy); `biasCorrectedKl` multiplies the k3
 * KL by the importance ratio ρ.
 *
 * @example
 * ```ts
 * import { groupObjective } from "@refine-af/training"
 * const objective = groupObjective({ clip: 0.2, beta: 0.04, aggregation: "sequence" })
 * objective.feeds // ["oldLogprobs", "advantages", "refLogprobs"]
 * ```
 */
import { add, clip, div, exp, greater, greaterOrEqual, lessOrEqual, maximum, minimum, mul, neg, sigmoid, square, stopGradient, sub, sum, type Tensor } from "@refine-af/tensor"
import type { HeadTensors, Objective } from "../../objective.ts"
import { asFloat, maskedMean, sequenceMean } from "./masked.ts"

/** Constants of the group policy-gradient loss. */
export interface GroupLossParams {
  /** ε: the ratio's lower clip 1 − ε (and upper, without `clipHigh`). */
  readonly clip: number
  /** ε_high: the ratio's upper clip 1 + ε_high (default ε). */
  readonly clipHigh?: number
  /** Weight of the k3 KL to the reference; 0 drops the reference feed. */
  readonly beta: number
  readonly aggregation: "sequence" | "token" | "constant"
  /** `constant` aggregation's length (the most new tokens a completion may have). */
  readonly constantLength?: number
  /** Read a `keep` feed (1, or 0 on truncated completions) that multiplies the mask. */
  readonly maskTruncated?: boolean
  /** `token` (default): a ratio per token; `sequence` (GSPO): one per sequence, e^(its mean log ratio). */
  readonly importanceSampling?: "token" | "sequence"
  /** The policy term: `clip` (default), `cispo` or `sapo`. */
  readonly policyLoss?: "clip" | "cispo" | "sapo"
  /** `clip` only: cap the unclipped ratio at δ (> 1; INTELLECT-2's two-sided clipping). */
  readonly delta?: number
  /** `cispo` only: ε_max, the importance weight's cap (ScaleRL: 5). */
  readonly cispoMax?: number
  /** `sapo` only: the gate's temperatures for positive and for other advantages (TRL: 1, 1.05). */
  readonly sapoTemperature?: { readonly positive: number; readonly negative: number }
  /** Read a `highEntropy` feed (1 on the tokens kept in the policy term, else 0). */
  readonly highEntropy?: boolean
  /** c: weight of the entropy bonus (0 or absent: no entropy head read). */
  readonly entropyCoef?: number
  /** Read the bonus's weight from an `entropyWeight` feed (one value on every token) instead of `entropyCoef`. */
  readonly entropyWeight?: boolean
  /** δ > 0: drop the policy term of negative-advantage sequences whose mean log π_old − log π exceeds δ. */
  readonly offPolicyMask?: number
  /** Multiply the k3 KL by the importance ratio (an unbiased estimate under off-policy samples). */
  readonly biasCorrectedKl?: boolean
}

/** Defaults of the policy-term constants (TRL's, ScaleRL's ε_max). */
export const defaultCispoMax = 5
export const defaultSapoTemperature = { positive: 1, negative: 1.05 } as const

/** Σ x·mask / (sequences × `length`): Dr. GRPO's length-unbiased aggregation. */
const constantMean = (length: number) => (x: Tensor, mask: Tensor): Tensor => div(sum(mul(x, mask)), mask.shape[0]! * length)

const reducerOf = (p: GroupLossParams) => {
  if (p.aggregation === "sequence") return sequenceMean
  if (p.aggregation === "token") return maskedMean
  if (p.constantLength === undefined || !(p.constantLength >= 1)) throw new Error("groupObjective: `constant` aggregation needs constantLength ≥ 1 (the most new tokens)")
  return constantMean(p.constantLength)
}

export type GroupFeed = "oldLogprobs" | "advantages" | "refLogprobs" | "keep" | "highEntropy" | "entropyWeight"

/** The completion mask, times the `keep` feed when truncated completions are masked. */
const maskOf = (p: GroupLossParams, h: HeadTensors, f: Readonly<Record<string, Tensor>>): Tensor => (p.maskTruncated === true ? mul(h.mask, f["keep"]!) : h.mask)

/** The per-token policy term and where it counts as clipped (0/1), by `policyLoss`. */
const policyTerm = (p: GroupLossParams, ratio: Tensor, advantages: Tensor, logprobs: Tensor): { perToken: Tensor; clipped?: Tensor } => {
  const form = p.policyLoss ?? "clip"
  if (form === "cispo") {
    const max = p.cispoMax ?? defaultCispoMax
    const weight = stopGradient(minimum(ratio, max))
    // TRL's cispo_clip_ratio: tokens whose weight was capped and whose advantage is positive.
    return { perToken: neg(mul(mul(weight, advantages), logprobs)), clipped: mul(asFloat(greater(ratio, max), ratio), asFloat(greater(advantages, 0), advantages)) }
  }
  if (form === "sapo") {
    const t = p.sapoTemperature ?? defaultSapoTemperature
    const temperature = add(mul(asFloat(greater(advantages, 0), advantages), t.positive - t.negative), t.negative)
    const gate = div(mul(sigmoid(mul(sub(ratio, 1), temperature)), 4), temperature)
    return { perToken: neg(mul(gate, advantages)) }
  }
  const unclipped = mul(p.delta === undefined ? ratio : minimum(ratio, p.delta), advantages)
  const clippedTerm = mul(clip(ratio, 1 - p.clip, 1 + (p.clipHigh ?? p.clip)), advantages)
  return { perToken: neg(minimum(unclipped, clippedTerm)), clipped: asFloat(greater(unclipped, clippedTerm), ratio) }
}

/** 1 on the tokens of sequences kept by the off-policy sequence mask: advantage ≥ 0, or mean (log π_old − log π) ≤ δ. */
const offPolicyKeepOf = (delta: number, oldLogprobs: Tensor, logprobs: Tensor, advantages: Tensor, mask: Tensor): Tensor => {
  const drift = mul(sub(oldLogprobs, stopGradient(logprobs)), mask)
  const meanDrift = div(sum(drift, 1, true), maximum(sum(mask, 1, true), 1))
  return maximum(asFloat(greaterOrEqual(advantages, 0), advantages), asFloat(lessOrEqual(meanDrift, delta), advantages))
}

/** Whether the objective reads the entropy head: a constant bonus, or a fed weight. */
const readsEntropy = (p: GroupLossParams): boolean => p.entropyWeight === true || (p.entropyCoef ?? 0) > 0

const parts = (p: GroupLossParams, h: HeadTensors, f: Readonly<Record<string, Tensor>>) => {
  const mask = maskOf(p, h, f)
  const logRatio = sub(h.logprobs, f["oldLogprobs"]!)
  // GSPO: one ratio per sequence, e^(mean log ratio over its tokens), broadcast over them.
  const ratio = exp(p.importanceSampling === "sequence" ? div(sum(mul(logRatio, mask), 1, true), maximum(sum(mask, 1, true), 1)) : logRatio)
  const advantages = f["advantages"]!
  const policy = policyTerm(p, ratio, advantages, h.logprobs)
  const offPolicyKeep = p.offPolicyMask === undefined ? undefined : offPolicyKeepOf(p.offPolicyMask, f["oldLogprobs"]!, h.logprobs, advantages, mask)
  const kept = offPolicyKeep === undefined ? policy.perToken : mul(policy.perToken, offPolicyKeep)
  const surrogate = p.highEntropy === true ? mul(kept, f["highEntropy"]!) : kept
  const refDiff = p.beta > 0 ? sub(f["refLogprobs"]!, h.logprobs) : undefined
  const k3Plain = refDiff === undefined ? undefined : sub(sub(exp(refDiff), refDiff), 1)
  const k3 = k3Plain !== undefined && p.biasCorrectedKl === true ? mul(k3Plain, ratio) : k3Plain
  const perToken = k3 === undefined ? surrogate : add(surrogate, mul(k3, p.beta))
  const reduce = reducerOf(p)
  const withoutBonus = reduce(perToken, mask)
  const keptEntropy = readsEntropy(p) ? maskedMean(h.entropy!, p.highEntropy === true ? mul(mask, f["highEntropy"]!) : mask) : undefined
  // A feed's weight is the same on every token: its masked mean is that weight (0 on an empty mask).
  const weight = p.entropyWeight === true ? maskedMean(f["entropyWeight"]!, mask) : p.entropyCoef
  const bonus = keptEntropy === undefined || weight === undefined ? undefined : mul(keptEntropy, weight)
  return {
    logRatio, surrogate, k3, mask, offPolicyKeep, keptEntropy,
    loss: bonus === undefined ? withoutBonus : sub(withoutBonus, bonus),
    ...(policy.clipped === undefined ? {} : { clipFraction: maskedMean(policy.clipped, mask) })
  }
}

/** The objective's id: the formula's version and every constant that changes it. */
const idOf = (p: GroupLossParams): string => {
  const form = p.policyLoss ?? "clip"
  const t = p.sapoTemperature ?? defaultSapoTemperature
  return [
    `group-pg/v1:clip=${p.clip},beta=${p.beta},aggregation=${p.aggregation}`,
    p.clipHigh === undefined ? "" : `,clipHigh=${p.clipHigh}`,
    p.aggregation === "constant" ? `,length=${p.constantLength}` : "",
    p.maskTruncated === true ? ",maskTruncated" : "",
    p.importanceSampling === "sequence" ? ",importance=sequence" : "",
    form === "clip" ? "" : `,policyLoss=${form}`,
    form === "clip" && p.delta !== undefined ? `,delta=${p.delta}` : "",
    form === "cispo" ? `,cispoMax=${p.cispoMax ?? defaultCispoMax}` : "",
    form === "sapo" ? `,sapoTemperature=${t.positive}/${t.negative}` : "",
    p.highEntropy === true ? ",highEntropy" : "",
    p.offPolicyMask === undefined ? "" : `,offPolicyMask=${p.offPolicyMask}`,
    p.biasCorrectedKl === true ? ",biasCorrectedKl" : "",
    p.entropyWeight === true ? ",entropyWeight" : (p.entropyCoef ?? 0) > 0 ? `,entropyCoef=${p.entropyCoef}` : ""
  ].join("")
}

/** The GRPO / RLOO objective with the given constants. */
export const groupObjective = (p: GroupLossParams): Objective<GroupFeed> => {
  const form = p.policyLoss ?? "clip"
  if (p.delta !== undefined && !(p.delta > 1)) throw new Error(`groupObjective: delta must be > 1 (it caps the ratio from above), got ${p.delta}`)
  if (p.delta !== undefined && form !== "clip") throw new Error("groupObjective: delta applies to the clipped policy term (policyLoss clip) only")
  if (p.cispoMax !== undefined && !(p.cispoMax > 0)) throw new Error(`groupObjective: cispoMax must be > 0, got ${p.cispoMax}`)
  if (p.offPolicyMask !== undefined && !(p.offPolicyMask > 0)) throw new Error(`groupObjective: offPolicyMask must be > 0, got ${p.offPolicyMask}`)
  return {
    id: idOf(p),
    heads: readsEntropy(p) ? ["entropy"] : [],
    feeds: [
      ...(p.beta > 0 ? ["oldLogprobs", "advantages", "refLogprobs"] as const : ["oldLogprobs", "advantages"] as const),
      ...(p.maskTruncated === true ? ["keep"] as const : []),
      ...(p.highEntropy === true ? ["highEntropy"] as const : []),
      ...(p.entropyWeight === true ? ["entropyWeight"] as const : [])
    ],
    loss: (h, f) => parts(p, h, f).loss,
    metrics: (h, f) => {
      const m = parts(p, h, f)
      const reduce = reducerOf(p)
      const out: Record<string, Tensor> = {
        policy_loss: stopGradient(reduce(m.surrogate, m.mask)),
        approx_kl: stopGradient(mul(maskedMean(square(m.logRatio), m.mask), 0.5))
      }
      if (m.clipFraction !== undefined) out["clip_fraction"] = stopGradient(m.clipFraction)
      if (m.k3 !== undefined) out["kl"] = stopGradient(maskedMean(m.k3, m.mask))
      if (m.keptEntropy !== undefined) out["kept_entropy"] = stopGradient(m.keptEntropy)
      if (m.offPolicyKeep !== undefined) out["off_policy_masked"] = stopGradient(maskedMean(sub(1, m.offPolicyKeep), m.mask))
      return out
    }
  }
}
