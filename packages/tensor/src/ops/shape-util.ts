/**
 * Shape arithmetic shared by the op rules and the interpreter: broadcasting,
 * strides, axis normalisation.
 */
import { shapeError, showShape } from "../errors.ts"
import type { DType, Shape } from "../ir.ts"
import { isFloat } from "../ir.ts"
import type { TensorType } from "./types.ts"

/** Numpy broadcast of several shapes; throws a ShapeError naming `op` when incompatible. */
export const broadcastShapes = (op: string, shapes: ReadonlyArray<Shape>): Array<number> => {
  const rank = Math.max(0, ...shapes.map((s) => s.length))
  const out: Array<number> = []
  for (let i = 0; i < rank; i++) {
    let d = 1
    for (const s of shapes) {
      const k = s.length - rank + i
      const e = k < 0 ? 1 : s[k]!
      if (e === 1) continue
      if (d !== 1 && d !== e) shapeError(op, `shapes cannot broadcast: ${shapes.map(showShape).join(" vs ")}`)
      d = e
    }
    out.push(d)
  }
  return out
}

/** Row-major strides of a shape. */
export const stridesOf = (shape: Shape): Array<number> => {
  const s = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc
    acc *= shape[i]!
  }
  return s
}

/**
 * Strides to read an input of shape `from` while iterating an output of shape `to`
 * (broadcast dims get stride 0, missing leading dims are ignored).
 */
export const broadcastStrides = (from: Shape, to: Shape): Array<number> => {
  const base = stridesOf(from)
  const out = new Array<number>(to.length).fill(0)
  for (let i = 0; i < from.length; i++) {
    const k = to.length - from.length + i
    out[k] = from[i] === 1 ? 0 : base[i]!
  }
  return out
}

/** Normalises an axis against a rank (negative counts from the end); throws when out of range. */
export const normAxis = (op: string, axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis
  if (!Number.isInteger(a) || a < 0 || a >= rank) shapeError(op, `axis ${axis} is out of range for rank ${rank}`)
  return a
}

/** Normalises, sorts and de-duplicates axes (throws on duplicates). */
export const normAxes = (op: string, axes: ReadonlyArray<number>, rank: number): Array<number> => {
  const out = axes.map((a) => normAxis(op, a, rank)).sort((x, y) => x - y)
  for (let i = 1; i < out.length; i++) if (out[i] === out[i - 1]) shapeError(op, `axis ${out[i]} is listed twice`)
  return out
}

/** Asserts the input count. */
export const expectArity = (op: string, inputs: ReadonlyArray<TensorType>, n: number): void => {
  if (inputs.length !== n) shapeError(op, `expects ${n} input(s), got ${inputs.length}`)
}

/** Asserts a float dtype. */
export const expectFloat = (op: string, t: TensorType): void => {
  if (!isFloat(t.dtype)) shapeError(op, `expects a float tensor, got ${t.dtype}`)
}

/** Asserts all inputs share one dtype and returns it. */
export const sameDtype = (op: string, inputs: ReadonlyArray<TensorType>): DType => {
  const d = inputs[0]!.dtype
  for (const t of inputs) if (t.dtype !== d) shapeError(op, `dtypes differ: ${inputs.map((x) => x.dtype).join(" vs ")}; cast one side first`)
  return d
}

/**
 * Calls `visit(outIndex, inIndex0, inIndex1, ...)` for every element of `outShape`,
 * with the flat indices into each broadcast input.
 */
export const forEachBroadcast = (
  outShape: Shape,
  inShapes: ReadonlyArray<Shape>,
  visit: (o: number, idx: Int32Array) => void
): void => {
  const rank = outShape.length
  const strides = inShapes.map((s) => broadcastStrides(s, outShape))
  const k = inShapes.length
  const idx = new Int32Array(k)
  const counter = new Array<number>(rank).fill(0)
  const total = outShape.reduce((a, b) => a * b, 1)
  for (let o = 0; o < total; o++) {
    visit(o, idx)
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++
      for (let j = 0; j < k; j++) idx[j]! += strides[j]![d]!
      if (counter[d]! < outShape[d]!) break
      for (let j = 0; j < k; j++) idx[j]! -= strides[j]![d]! * outShape[d]!
      counter[d] = 0
    }
  }
}

/** The shape of a reduction's result over sorted `axes` (size-1 dims kept when `keepdims`). */
export const reducedShape = (shape: Shape, axes: ReadonlyArray<number>, keepdims: boolean): Array<number> =>
  keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i))

/** Number of elements a reduction over `axes` folds into each result. */
export const reducedCount = (shape: Shape, axes: ReadonlyArray<number>): number => axes.reduce((n, a) => n * shape[a]!, 1)
