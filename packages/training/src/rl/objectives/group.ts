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
 * @example
 * ```ts
 * import { groupObjective } from "@refine-af/training"
 * const objective = groupObjective({ clip: 0.2, beta: 0.04, aggregation: "sequence" })
 * objective.feeds // ["oldLogprobs", "advantages", "refLogprobs"]
 * ```
 */
import { add, clip, div, exp, greater, maximum, minimum, mul, neg, square, stopGradient, sub, sum, type Tensor } from "@refine-af/tensor"
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
}

/** Σ x·mask / (sequences × `length`): Dr. GRPO's length-unbiased aggregation. */
const constantMean = (length: number) => (x: Tensor, mask: Tensor): Tensor => div(sum(mul(x, mask)), mask.shape[0]! * length)

const reducerOf = (p: GroupLossParams) => {
  if (p.aggregation === "sequence") return sequenceMean
  if (p.aggregation === "token") return maskedMean
  if (p.constantLength === undefined || !(p.constantLength >= 1)) throw new Error("groupObjective: `constant` aggregation needs constantLength ≥ 1 (the most new tokens)")
  return constantMean(p.constantLength)
}

export type GroupFeed = "oldLogprobs" | "advantages" | "refLogprobs" | "keep"

/** The completion mask, times the `keep` feed when truncated completions are masked. */
const maskOf = (p: GroupLossParams, h: HeadTensors, f: Readonly<Record<string, Tensor>>): Tensor => (p.maskTruncated === true ? mul(h.mask, f["keep"]!) : h.mask)

const parts = (p: GroupLossParams, h: HeadTensors, f: Readonly<Record<string, Tensor>>) => {
  const mask = maskOf(p, h, f)
  const logRatio = sub(h.logprobs, f["oldLogprobs"]!)
  // GSPO: one ratio per sequence, e^(mean log ratio over its tokens), broadcast over them.
  const ratio = exp(p.importanceSampling === "sequence" ? div(sum(mul(logRatio, mask), 1, true), maximum(sum(mask, 1, true), 1)) : logRatio)
  const advantages = f["advantages"]!
  const unclipped = mul(ratio, advantages)
  const clipped = mul(clip(ratio, 1 - p.clip, 1 + (p.clipHigh ?? p.clip)), advantages)
  const surrogate = neg(minimum(unclipped, clipped))
  const refDiff = p.beta > 0 ? sub(f["refLogprobs"]!, h.logprobs) : undefined
  const k3 = refDiff === undefined ? undefined : sub(sub(exp(refDiff), refDiff), 1)
  const perToken = k3 === undefined ? surrogate : add(surrogate, mul(k3, p.beta))
  const reduce = reducerOf(p)
  return { logRatio, surrogate, k3, mask, loss: reduce(perToken, mask), clipFraction: maskedMean(asFloat(greater(unclipped, clipped), ratio), mask) }
}

/** The GRPO / RLOO objective with the given constants. */
export const groupObjective = (p: GroupLossParams): Objective<GroupFeed> => ({
  id: `group-pg/v1:clip=${p.clip},beta=${p.beta},aggregation=${p.aggregation}${p.clipHigh === undefined ? "" : `,clipHigh=${p.clipHigh}`}${p.aggregation === "constant" ? `,length=${p.constantLength}` : ""}${p.maskTruncated === true ? ",maskTruncated" : ""}${p.importanceSampling === "sequence" ? ",importance=sequence" : ""}`,
  heads: [],
  feeds: [...(p.beta > 0 ? ["oldLogprobs", "advantages", "refLogprobs"] as const : ["oldLogprobs", "advantages"] as const), ...(p.maskTruncated === true ? ["keep"] as const : [])],
  loss: (h, f) => parts(p, h, f).loss,
  metrics: (h, f) => {
    const m = parts(p, h, f)
    const reduce = reducerOf(p)
    const out: Record<string, Tensor> = {
      policy_loss: stopGradient(reduce(m.surrogate, m.mask)),
      clip_fraction: stopGradient(m.clipFraction),
      approx_kl: stopGradient(mul(maskedMean(square(m.logRatio), m.mask), 0.5))
    }
    if (m.k3 !== undefined) out["kl"] = stopGradient(maskedMean(m.k3, m.mask))
    return out
  }
})
