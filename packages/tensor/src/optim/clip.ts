/**
 * Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_:
 * scale = min(1, maxNorm / (‖g‖ + 1e-6)).
 *
 * @example
 * ```ts
 * import { Graph, clipByGlobalNorm } from "@refine-af/tensor"
 * const g = new Graph()
 * const grads = [g.input("g0", "float32", [3])]
 * const { clipped, norm } = clipByGlobalNorm(grads, 1.0)
 * ```
 */
import { add, cast, div, minimum, mul, sqrt, square, sum } from "../api.ts"
import type { Tensor } from "../graph.ts"

/** Clipped gradients and the pre-clipping global norm (float32 or wider). */
export const clipByGlobalNorm = (grads: ReadonlyArray<Tensor>, maxNorm: number): { clipped: Array<Tensor>; norm: Tensor } => {
  const first = grads[0]!
  const acc = first.dtype === "float64" ? "float64" : "float32"
  const squares = grads.map((g) => sum(square(cast(g, acc))))
  const total = sqrt(squares.reduce((a, b) => add(a, b)))
  const scale = minimum(div(first.graph.scalar(maxNorm, acc), add(total, 1e-6)), 1)
  return { clipped: grads.map((g) => mul(g, cast(scale, g.dtype))), norm: total }
}
