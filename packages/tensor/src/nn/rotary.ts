/**
 * Rotary position embedding, Hugging Face Llama convention: frequencies
 * θ^(−2i/d) for i < d/2, duplicated across the two halves, and
 * rotate_half(x) = concat(−x₂, x₁).
 *
 * @example
 * ```ts
 * import { Graph, rotaryTables, applyRotary } from "@refine-af/tensor"
 * const g = new Graph()
 * const pos = g.input("positions", "int64", [1, 5])
 * const { cos, sin } = rotaryTables(pos, 8, 10000, "float32")
 * const q = g.input("q", "float32", [1, 2, 5, 8]) // [batch, heads, seq, headDim]
 * g.output("q_rot", applyRotary(q, cos, sin))
 * ```
 */
import { add, cast, concat, cos as cosOp, mul, neg, sin as sinOp, slice, unsqueeze } from "../api.ts"
import type { Tensor } from "../graph.ts"
import type { DType } from "../ir.ts"

/** cos/sin tables [batch, seq, headDim] for integer `positions` [batch, seq]. */
export const rotaryTables = (positions: Tensor, headDim: number, theta: number, dtype: DType): { cos: Tensor; sin: Tensor } => {
  const half = headDim / 2
  const invFreq = Array.from({ length: half }, (_, i) => 1 / Math.pow(theta, (2 * i) / headDim))
  const g = positions.graph
  // Angles in float32 at least, as HF does, then cast to the model dtype.
  const work: DType = dtype === "float64" ? "float64" : "float32"
  const freqs = mul(unsqueeze(cast(positions, work), -1), g.constant(invFreq, work, [half]))
  const angles = concat([freqs, freqs], -1)
  return { cos: cast(cosOp(angles), dtype), sin: cast(sinOp(angles), dtype) }
}

/** concat(−x[..., d/2:], x[..., :d/2]). */
export const rotateHalf = (x: Tensor): Tensor => {
  const d = x.shape[x.rank - 1]!
  const x1 = slice(x, [{ axis: -1, start: 0, end: d / 2 }])
  const x2 = slice(x, [{ axis: -1, start: d / 2, end: d }])
  return concat([neg(x2), x1], -1)
}

/** x·cos + rotate_half(x)·sin for x [batch, heads, seq, headDim] and tables [batch, seq, headDim]. */
export const applyRotary = (x: Tensor, cos: Tensor, sin: Tensor): Tensor =>
  add(mul(x, unsqueeze(cos, 1)), mul(rotateHalf(x), unsqueeze(sin, 1)))
