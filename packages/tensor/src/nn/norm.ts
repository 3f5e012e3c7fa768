/**
 * Embedding lookup and RMSNorm (Llama convention: normalise in float32, scale after).
 *
 * @example
 * ```ts
 * import { Graph, rmsNorm } from "@refine-af/tensor"
 * const g = new Graph()
 * const x = g.input("x", "float32", [2, 8])
 * g.output("y", rmsNorm(x, g.parameter("norm.weight", "float32", [8]), 1e-6))
 * ```
 */
import { add, cast, gather, mean, mul, rsqrt, square } from "../api.ts"
import type { Tensor } from "../graph.ts"

/** Rows of `weight` [vocab, dim] at integer `tokens` → [...tokens.shape, dim]. */
export const embedding = (weight: Tensor, tokens: Tensor): Tensor => gather(weight, tokens, 0)

/** RMSNorm over the last axis: weight · x / sqrt(mean(x²) + eps); float16 is normalised in float32. */
export const rmsNorm = (x: Tensor, weight: Tensor, eps: number): Tensor => {
  const wide = x.dtype === "float16" ? cast(x, "float32") : x
  const normed = mul(wide, rsqrt(add(mean(square(wide), -1, true), eps)))
  return mul(weight, cast(normed, x.dtype))
}
