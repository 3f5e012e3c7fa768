/**
 * Layout ops that move data without arithmetic: Reshape, Transpose, Expand,
 * Squeeze, Unsqueeze.
 */
import { shapeError, showShape } from "../errors.ts"
import { sizeOf } from "../ir.ts"
import { broadcastShapes, expectArity, forEachBroadcast, stridesOf } from "./shape-util.ts"
import type { OpDefs, TensorType } from "./types.ts"

const checkAxesSorted = (op: string, axes: ReadonlyArray<number>, rank: number) => {
  for (let i = 0; i < axes.length; i++) {
    const a = axes[i]!
    if (!Number.isInteger(a) || a < 0 || a >= rank) shapeError(op, `axis ${a} is out of range for rank ${rank}`)
    if (i > 0 && a <= axes[i - 1]!) shapeError(op, `axes must be sorted and unique, got [${axes.join(",")}]`)
  }
}

/** Definitions of the layout ops. */
export const layoutOps: OpDefs = {
  Reshape: {
    infer: (inputs, { shape }) => {
      expectArity("Reshape", inputs, 1)
      const x = inputs[0]!
      if (shape.some((d) => !Number.isInteger(d) || d < 0)) shapeError("Reshape", `target shape ${showShape(shape)} must be fully resolved non-negative integers`)
      if (sizeOf(shape) !== sizeOf(x.shape)) shapeError("Reshape", `cannot reshape ${showShape(x.shape)} (${sizeOf(x.shape)} elements) to ${showShape(shape)} (${sizeOf(shape)} elements)`)
      return { dtype: x.dtype, shape: [...shape] }
    },
    evaluate: ([x]) => x!.data.slice()
  },
  Transpose: {
    infer: (inputs, { perm }) => {
      expectArity("Transpose", inputs, 1)
      const x = inputs[0]!
      const sorted = [...perm].sort((a, b) => a - b)
      if (perm.length !== x.shape.length || sorted.some((p, i) => p !== i)) shapeError("Transpose", `perm [${perm.join(",")}] is not a permutation of the ${x.shape.length} axes of ${showShape(x.shape)}`)
      return { dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }
    },
    evaluate: ([x], { perm }, out) => {
      const inStrides = stridesOf(x!.shape)
      const permuted = perm.map((p) => inStrides[p]!)
      const res = new Float64Array(x!.data.length)
      const rank = out.shape.length
      const counter = new Array<number>(rank).fill(0)
      let src = 0
      for (let o = 0; o < res.length; o++) {
        res[o] = x!.data[src]!
        for (let d = rank - 1; d >= 0; d--) {
          counter[d]!++
          src += permuted[d]!
          if (counter[d]! < out.shape[d]!) break
          src -= permuted[d]! * out.shape[d]!
          counter[d] = 0
        }
      }
      return res
    }
  },
  Expand: {
    infer: (inputs, { shape }) => {
      expectArity("Expand", inputs, 1)
      const x = inputs[0]!
      const b = broadcastShapes("Expand", [x.shape, shape])
      if (b.length !== shape.length || b.some((d, i) => d !== shape[i])) shapeError("Expand", `cannot broadcast ${showShape(x.shape)} to ${showShape(shape)}`)
      return { dtype: x.dtype, shape: [...shape] }
    },
    evaluate: ([x], _attrs, out) => {
      const res = new Float64Array(sizeOf(out.shape))
      forEachBroadcast(out.shape, [x!.shape], (o, idx) => (res[o] = x!.data[idx[0]!]!))
      return res
    }
  },
  Squeeze: {
    infer: (inputs, { axes }) => {
      expectArity("Squeeze", inputs, 1)
      const x = inputs[0]!
      checkAxesSorted("Squeeze", axes, x.shape.length)
      for (const a of axes) if (x.shape[a] !== 1) shapeError("Squeeze", `axis ${a} of ${showShape(x.shape)} has size ${x.shape[a]}, not 1`)
      return { dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }
    },
    evaluate: ([x]) => x!.data.slice()
  },
  Unsqueeze: {
    infer: (inputs, { axes }) => {
      expectArity("Unsqueeze", inputs, 1)
      const x: TensorType = inputs[0]!
      const rank = x.shape.length + axes.length
      checkAxesSorted("Unsqueeze", axes, rank)
      const shape: Array<number> = []
      let k = 0
      for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.shape[k++]!)
      return { dtype: x.dtype, shape }
    },
    evaluate: ([x]) => x!.data.slice()
  }
}
