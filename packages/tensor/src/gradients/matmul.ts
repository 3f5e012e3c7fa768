/**
 * VJP of MatMul.
 */
import { matmul, reshape, sumToShape, transposeLast2 } from "../api.ts"
import type { Tensor } from "../graph.ts"
import type { VjpRules } from "./types.ts"

/**
 * Cotangent of b. For a rank-2 b under a batched a (every linear layer), fold the
 * batch into the contraction — [k, B·m]·[B·m, n] — instead of materialising one
 * [k, n] product per batch element and summing them.
 */
const weightGrad = (a: Tensor, b: Tensor, dy: Tensor): Tensor => {
  if (b.rank === 2 && a.rank > 2) {
    const k = a.shape[a.rank - 1]!
    const n = dy.shape[dy.rank - 1]!
    return matmul(transposeLast2(reshape(a, [-1, k])), reshape(dy, [-1, n]))
  }
  return sumToShape(matmul(transposeLast2(a), dy), b.shape)
}

/** VJP rule of MatMul. */
export const matmulVjps: VjpRules = {
  MatMul: ({ inputs: [a, b], dy, needs }) => [
    needs[0] ? sumToShape(matmul(dy, transposeLast2(b!)), a!.shape) : undefined,
    needs[1] ? weightGrad(a!, b!, dy) : undefined
  ]
}
