/**
 * ReduceSum / ReduceMean / ReduceMax over static axes, and Softmax / LogSoftmax.
 */
import { shapeError } from "../errors.ts"
import type { Shape } from "../ir.ts"
import { expectArity, expectFloat, reducedCount, reducedShape, stridesOf } from "./shape-util.ts"
import type { OpDef, OpDefs, TensorType, Value } from "./types.ts"

type ReduceAttrs = { readonly axes: ReadonlyArray<number>; readonly keepdims: boolean }

const inferReduce = (op: string) => (inputs: ReadonlyArray<TensorType>, attrs: ReduceAttrs): TensorType => {
  expectArity(op, inputs, 1)
  const x = inputs[0]!
  if (x.dtype === "bool") shapeError(op, "cannot reduce a bool tensor; cast it first")
  const rank = x.shape.length
  if (attrs.axes.length === 0) shapeError(op, "axes must not be empty")
  for (let i = 0; i < attrs.axes.length; i++) {
    const a = attrs.axes[i]!
    if (!Number.isInteger(a) || a < 0 || a >= rank) shapeError(op, `axis ${a} is out of range for rank ${rank} (axes are normalised ≥ 0)`)
    if (i > 0 && a <= attrs.axes[i - 1]!) shapeError(op, `axes must be sorted and unique, got [${attrs.axes.join(",")}]`)
  }
  return { dtype: x.dtype, shape: reducedShape(x.shape, attrs.axes, attrs.keepdims) }
}

/** Folds the reduced axes of `x` with `(acc, v)` starting at `init`; output in keepdims order. */
const reduceValues = (x: Value, axes: ReadonlyArray<number>, init: number, f: (acc: number, v: number) => number): Float64Array => {
  const keep = reducedShape(x.shape, axes, true)
  const outStrides = stridesOf(keep)
  const out = new Float64Array(keep.reduce((p, q) => p * q, 1)).fill(init)
  const rank = x.shape.length
  const kept = x.shape.map((_, d) => !axes.includes(d))
  const counter = new Array<number>(rank).fill(0)
  for (let i = 0; i < x.data.length; i++) {
    let o = 0
    for (let d = 0; d < rank; d++) if (kept[d]) o += counter[d]! * outStrides[d]!
    out[o] = f(out[o]!, x.data[i]!)
    for (let d = rank - 1; d >= 0; d--) {
      if (++counter[d]! < x.shape[d]!) break
      counter[d] = 0
    }
  }
  return out
}

const reduceOp = <K extends "ReduceSum" | "ReduceMean" | "ReduceMax">(op: K, def: Omit<OpDef<K>, "infer">): OpDef<K> => ({
  infer: inferReduce(op),
  ...def
})

const softmaxInfer = (op: string) => (inputs: ReadonlyArray<TensorType>, attrs: { readonly axis: number }): TensorType => {
  expectArity(op, inputs, 1)
  const x = inputs[0]!
  expectFloat(op, x)
  if (!Number.isInteger(attrs.axis) || attrs.axis < 0 || attrs.axis >= x.shape.length) shapeError(op, `axis ${attrs.axis} is out of range for rank ${x.shape.length}`)
  return x
}

const logSumExpPerRow = (x: Value, axis: number): { lse: Float64Array; keep: Array<number> } => {
  const mx = reduceValues(x, [axis], -Infinity, Math.max)
  const keep = reducedShape(x.shape, [axis], true)
  const shifted: Value = { ...x, data: x.data.slice() }
  forEachWithRow(x.shape, axis, (i, r) => (shifted.data[i] = Math.exp(x.data[i]! - mx[r]!)))
  const s = reduceValues(shifted, [axis], 0, (a, v) => a + v)
  const lse = s.map((v, r) => Math.log(v) + mx[r]!)
  return { lse, keep }
}

/** Calls f(flatIndex, rowIndex) where rowIndex indexes the tensor with `axis` reduced. */
const forEachWithRow = (shape: Shape, axis: number, f: (i: number, r: number) => void) => {
  const inner = shape.slice(axis + 1).reduce((p, q) => p * q, 1)
  const dim = shape[axis]!
  const total = shape.reduce((p, q) => p * q, 1)
  for (let i = 0; i < total; i++) {
    const outer = Math.floor(i / (inner * dim))
    f(i, outer * inner + (i % inner))
  }
}

/** Definitions of reductions and softmax ops. */
export const reduceOps: OpDefs = {
  ReduceSum: reduceOp("ReduceSum", {
    evaluate: ([x], { axes }) => reduceValues(x!, axes, 0, (a, v) => a + v)
  }),
  ReduceMean: reduceOp("ReduceMean", {
    evaluate: ([x], { axes }) => {
      const n = reducedCount(x!.shape, axes)
      return reduceValues(x!, axes, 0, (a, v) => a + v).map((v) => v / n)
    }
  }),
  ReduceMax: reduceOp("ReduceMax", {
    evaluate: ([x], { axes }) => reduceValues(x!, axes, -Infinity, Math.max)
  }),
  Softmax: {
    infer: softmaxInfer("Softmax"),
    evaluate: ([x], { axis }) => {
      const { lse } = logSumExpPerRow(x!, axis)
      const out = new Float64Array(x!.data.length)
      forEachWithRow(x!.shape, axis, (i, r) => (out[i] = Math.exp(x!.data[i]! - lse[r]!)))
      return out
    }
  },
  LogSoftmax: {
    infer: softmaxInfer("LogSoftmax"),
    evaluate: ([x], { axis }) => {
      const { lse } = logSumExpPerRow(x!, axis)
      const out = new Float64Array(x!.data.length)
      forEachWithRow(x!.shape, axis, (i, r) => (out[i] = x!.data[i]! - lse[r]!))
      return out
    }
  }
}
