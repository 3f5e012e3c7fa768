/**
 * Masked reductions for objectives: every objective averages over completion
 * tokens only (mask 1), either over all tokens of the batch or per sequence first.
 *
 * @example
 * ```ts
 * import { Graph } from "@refine-af/tensor"
 * import { maskedMean } from "@refine-af/training"
 * const g = new Graph()
 * const x = g.input("x", "float64", [2, 3]), mask = g.input("mask", "float64", [2, 3])
 * g.output("m", maskedMean(x, mask))
 * ```
 */
import { cast, div, maximum, mean, mul, sum, type Tensor } from "@refine-af/tensor"

/** Σ x·mask / max(Σ mask, 1) over the whole batch (TRL's `masked_mean`). */
export const maskedMean = (x: Tensor, mask: Tensor): Tensor => div(sum(mul(x, mask)), maximum(sum(mask), 1))

/** Mean over sequences of each sequence's masked token mean (GRPO's original aggregation). */
export const sequenceMean = (x: Tensor, mask: Tensor): Tensor => mean(div(sum(mul(x, mask), 1), maximum(sum(mask, 1), 1)))

/** A bool tensor as 0/1 of `like`'s dtype. */
export const asFloat = (b: Tensor, like: Tensor): Tensor => cast(b, like.dtype)
