/**
 * MatMul: numpy batched matrix product with broadcast batch dims (ranks ≥ 2).
 */
import { shapeError, showShape } from "../errors.ts"
import { broadcastShapes, broadcastStrides, expectArity, expectFloat, sameDtype } from "./shape-util.ts"
import type { OpDefs, TensorType, Value } from "./types.ts"

/** Definition of MatMul. */
export const matmulOps: OpDefs = {
  MatMul: {
    infer: (inputs) => {
      expectArity("MatMul", inputs, 2)
      const [a, b] = inputs as [TensorType, TensorType]
      expectFloat("MatMul", a)
      sameDtype("MatMul", inputs)
      if (a.shape.length < 2 || b.shape.length < 2) shapeError("MatMul", `both operands need rank ≥ 2: ${showShape(a.shape)} x ${showShape(b.shape)}; unsqueeze vectors first`)
      const k = a.shape[a.shape.length - 1]!
      if (b.shape[b.shape.length - 2] !== k) shapeError("MatMul", `inner dimensions differ: ${showShape(a.shape)} x ${showShape(b.shape)}`)
      const batch = broadcastShapes("MatMul", [a.shape.slice(0, -2), b.shape.slice(0, -2)])
      return { dtype: a.dtype, shape: [...batch, a.shape[a.shape.length - 2]!, b.shape[b.shape.length - 1]!] }
    },
    evaluate: (inputs, _attrs, out) => {
      const [a, b] = inputs as [Value, Value]
      const r = out.shape.length
      const m = out.shape[r - 2]!
      const n = out.shape[r - 1]!
      const k = a.shape[a.shape.length - 1]!
      const batchShape = out.shape.slice(0, -2)
      const batches = batchShape.reduce((x, y) => x * y, 1)
      const sa = broadcastStrides(a.shape.slice(0, -2), batchShape)
      const sb = broadcastStrides(b.shape.slice(0, -2), batchShape)
      const res = new Float64Array(batches * m * n)
      const counter = new Array<number>(batchShape.length).fill(0)
      for (let bi = 0; bi < batches; bi++) {
        let offA = 0
        let offB = 0
        for (let d = 0; d < batchShape.length; d++) {
          offA += counter[d]! * sa[d]! * m * k
          offB += counter[d]! * sb[d]! * k * n
        }
        const offO = bi * m * n
        // i-p-j order walks b and the output row-wise (contiguous), several times faster than i-j-p.
        const ad = a.data
        const bd = b.data
        for (let i = 0; i < m; i++) {
          const row = offO + i * n
          for (let p = 0; p < k; p++) {
            const av = ad[offA + i * k + p]!
            const brow = offB + p * n
            for (let j = 0; j < n; j++) res[row + j]! += av * bd[brow + j]!
          }
        }
        for (let d = batchShape.length - 1; d >= 0; d--) {
          if (++counter[d]! < batchShape[d]!) break
          counter[d] = 0
        }
      }
      return res
    }
  }
}
