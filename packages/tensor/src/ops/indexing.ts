/**
 * Integer-indexed ops: Gather (embeddings), GatherElements (take-along-axis),
 * ScatterElements (their adjoint).
 */
import { shapeError, showShape } from "../errors.ts"
import { isInteger, sizeOf } from "../ir.ts"
import { expectArity, stridesOf } from "./shape-util.ts"
import type { OpDefs, TensorType, Value } from "./types.ts"
import { forEachIndex } from "./window.ts"

const checkIndex = (op: string, v: number, dim: number): number => {
  if (!(v >= 0 && v < dim)) shapeError(op, `index ${v} is out of range [0, ${dim})`)
  return v
}

const expectIndices = (op: string, t: TensorType) => {
  if (!isInteger(t.dtype)) shapeError(op, `indices must be int32 or int64, got ${t.dtype}`)
}

const checkAlongAxis = (op: string, data: TensorType, indices: TensorType, axis: number) => {
  if (indices.shape.length !== data.shape.length) shapeError(op, `indices ${showShape(indices.shape)} must have the rank of data ${showShape(data.shape)}`)
  if (axis < 0 || axis >= data.shape.length) shapeError(op, `axis ${axis} is out of range for rank ${data.shape.length}`)
  indices.shape.forEach((d, i) => {
    if (i !== axis && d > data.shape[i]!) shapeError(op, `indices ${showShape(indices.shape)} exceed data ${showShape(data.shape)} at axis ${i}`)
  })
}

/** Flat data offset of `counter` with the `axis` coordinate replaced by `at`. */
const offsetAlong = (counter: ReadonlyArray<number>, strides: ReadonlyArray<number>, axis: number, at: number) => {
  let o = 0
  for (let d = 0; d < counter.length; d++) o += (d === axis ? at : counter[d]!) * strides[d]!
  return o
}

/** Definitions of the indexing ops. */
export const indexingOps: OpDefs = {
  Gather: {
    infer: (inputs, { axis }) => {
      expectArity("Gather", inputs, 2)
      const [data, indices] = inputs as [TensorType, TensorType]
      expectIndices("Gather", indices)
      if (axis < 0 || axis >= data.shape.length) shapeError("Gather", `axis ${axis} is out of range for data ${showShape(data.shape)}`)
      return { dtype: data.dtype, shape: [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)] }
    },
    evaluate: ([data, indices], { axis }, out) => {
      const d = data as Value
      const idx = (indices as Value).data
      const k = (indices as Value).shape.length
      const strides = stridesOf(d.shape)
      const idxStrides = stridesOf((indices as Value).shape)
      const res = new Float64Array(sizeOf(out.shape))
      forEachIndex(out.shape, (o, c) => {
        let flat = 0
        for (let j = 0; j < k; j++) flat += c[axis + j]! * idxStrides[j]!
        const at = checkIndex("Gather", idx[flat]!, d.shape[axis]!)
        let src = at * strides[axis]!
        for (let j = 0; j < axis; j++) src += c[j]! * strides[j]!
        for (let j = axis + 1; j < d.shape.length; j++) src += c[j + k - 1]! * strides[j]!
        res[o] = d.data[src]!
      })
      return res
    }
  },
  GatherElements: {
    infer: (inputs, { axis }) => {
      expectArity("GatherElements", inputs, 2)
      const [data, indices] = inputs as [TensorType, TensorType]
      expectIndices("GatherElements", indices)
      checkAlongAxis("GatherElements", data, indices, axis)
      return { dtype: data.dtype, shape: indices.shape }
    },
    evaluate: ([data, indices], { axis }, out) => {
      const strides = stridesOf(data!.shape)
      const res = new Float64Array(sizeOf(out.shape))
      forEachIndex(out.shape, (o, c) => {
        const at = checkIndex("GatherElements", indices!.data[o]!, data!.shape[axis]!)
        res[o] = data!.data[offsetAlong(c, strides, axis, at)]!
      })
      return res
    }
  },
  ScatterElements: {
    infer: (inputs, { axis }) => {
      expectArity("ScatterElements", inputs, 3)
      const [data, indices, updates] = inputs as [TensorType, TensorType, TensorType]
      expectIndices("ScatterElements", indices)
      checkAlongAxis("ScatterElements", data, indices, axis)
      if (updates.dtype !== data.dtype) shapeError("ScatterElements", `updates dtype ${updates.dtype} differs from data dtype ${data.dtype}`)
      if (updates.shape.length !== indices.shape.length || updates.shape.some((d, i) => d !== indices.shape[i])) shapeError("ScatterElements", `updates ${showShape(updates.shape)} must have the shape of indices ${showShape(indices.shape)}`)
      return data
    },
    evaluate: ([data, indices, updates], { axis, reduction }) => {
      const res = data!.data.slice()
      const strides = stridesOf(data!.shape)
      forEachIndex(indices!.shape, (p, c) => {
        const o = offsetAlong(c, strides, axis, checkIndex("ScatterElements", indices!.data[p]!, data!.shape[axis]!))
        res[o] = reduction === "add" ? res[o]! + updates!.data[p]! : updates!.data[p]!
      })
      return res
    }
  }
}
