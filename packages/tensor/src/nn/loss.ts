/**
 * Token-level losses: log-probabilities of targets and masked mean cross-entropy.
 *
 * @example
 * ```ts
 * import { Graph, crossEntropy } from "@refine-af/tensor"
 * const g = new Graph()
 * const logits = g.input("logits", "float32", [2, 5, 11])
 * const targets = g.input("targets", "int64", [2, 5])
 * const mask = g.input("mask", "float32", [2, 5]) // 0 = prompt/padding token, ignored
 * g.output("loss", crossEntropy(logits, targets, mask))
 * ```
 */
import { cast, div, exp, gatherElements, logSoftmax, maximum, mean, mul, neg, squeeze, sum, unsqueeze } from "../api.ts"
import type { Tensor } from "../graph.ts"

/** log p(target) per position: logits [..., vocab], targets [...] int → [...]. Computed in ≥ float32. */
export const tokenLogProbs = (logits: Tensor, targets: Tensor): Tensor => {
  const wide = logits.dtype === "float16" ? cast(logits, "float32") : logits
  return squeeze(gatherElements(logSoftmax(wide, -1), unsqueeze(targets, -1), -1), [wide.rank - 1])
}

/**
 * Mean negative log-likelihood over positions where `mask` is non-zero (all when
 * omitted) — torch's cross_entropy with ignore_index. A fully masked batch gives 0.
 */
export const crossEntropy = (logits: Tensor, targets: Tensor, mask?: Tensor): Tensor => {
  const nll = neg(tokenLogProbs(logits, targets))
  if (mask === undefined) return mean(nll)
  const m = cast(mask, nll.dtype)
  return div(sum(mul(nll, m)), maximum(sum(m), 1))
}

/** Entropy −Σ p·log p of the softmax over the last axis, per position: logits [..., vocab] → [...]. */
export const tokenEntropy = (logits: Tensor): Tensor => {
  const logp = logSoftmax(logits.dtype === "float16" ? cast(logits, "float32") : logits, -1)
  return neg(sum(mul(exp(logp), logp), -1))
}
