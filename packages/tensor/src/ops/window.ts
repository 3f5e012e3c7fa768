/**
 * Ops that select or place windows of data: Slice, Concat, Pad, Trilu.
 */
import { pad, reshape, slice, unsqueeze } from "../api.ts"
import { shapeError, showShape } from "../errors.ts"
import type { Tensor } from "../graph.ts"
import type { Shape } from "../ir.ts"
import { sizeOf } from "../ir.ts"
import { expectArity, sameDtype, stridesOf } from "./shape-util.ts"
import type { OpDefs, TensorType } from "./types.ts"

/** Visits every output multi-index (as a mutable counter) with its flat index. */
export const forEachIndex = (shape: Shape, visit: (o: number, counter: ReadonlyArray<number>) => void): void => {
  const rank = shape.length
  const counter = new Array<number>(rank).fill(0)
  const total = sizeOf(shape)
  for (let o = 0; o < total; o++) {
    visit(o, counter)
    for (let d = rank - 1; d >= 0; d--) {
      if (++counter[d]! < shape[d]!) break
      counter[d] = 0
    }
  }
}

/** Cotangent of a strided slice along one axis: places dy back into a zero tensor of `dim` entries. */
const unsliceAxis = (dy: Tensor, axis: number, start: number, step: number, dim: number): Tensor => {
  const n = dy.shape[axis]!
  let spread = dy
  let length = n
  if (step > 1 && n > 0) {
    // interleave step-1 zeros after each element: [.., n, ..] -> [.., n, step, ..] -> [.., n*step, ..]
    const wide = unsqueeze(dy, axis + 1)
    const pads = new Array<number>(2 * wide.rank).fill(0)
    pads[wide.rank + axis + 1] = step - 1
    const shape = [...dy.shape]
    shape[axis] = n * step
    spread = reshape(pad(wide, pads), shape)
    length = n * step
  }
  const keep = Math.min(length, dim - start)
  if (keep < length) spread = slice(spread, [{ axis, start: 0, end: keep }])
  const pads = new Array<number>(2 * dy.rank).fill(0)
  pads[axis] = start
  pads[dy.rank + axis] = dim - start - keep
  return pad(spread, pads)
}

/** Definitions of the window ops. */
export const windowOps: OpDefs = {
  Slice: {
    infer: (inputs, { starts, ends, axes, steps }) => {
      expectArity("Slice", inputs, 1)
      const x = inputs[0]!
      if (starts.length !== axes.length || ends.length !== axes.length || steps.length !== axes.length) shapeError("Slice", "starts, ends, axes and steps must have the same length")
      const shape = [...x.shape]
      axes.forEach((a, i) => {
        const dim = x.shape[a]
        if (dim === undefined || (i > 0 && a <= axes[i - 1]!)) shapeError("Slice", `axes [${axes.join(",")}] must be sorted, unique and < rank ${x.shape.length}`)
        const s = starts[i]!
        const e = ends[i]!
        const st = steps[i]!
        if (!(0 <= s && s <= e && e <= dim!) || !(st >= 1)) shapeError("Slice", `axis ${a} of ${showShape(x.shape)}: need 0 ≤ start ${s} ≤ end ${e} ≤ ${dim} and step ${st} ≥ 1`)
        shape[a] = Math.ceil((e - s) / st)
      })
      return { dtype: x.dtype, shape }
    },
    evaluate: ([x], { starts, axes, steps }, out) => {
      const strides = stridesOf(x!.shape)
      const start = x!.shape.map(() => 0)
      const step = x!.shape.map(() => 1)
      axes.forEach((a, i) => ((start[a] = starts[i]!), (step[a] = steps[i]!)))
      const res = new Float64Array(sizeOf(out.shape))
      forEachIndex(out.shape, (o, c) => {
        let src = 0
        for (let d = 0; d < c.length; d++) src += (start[d]! + c[d]! * step[d]!) * strides[d]!
        res[o] = x!.data[src]!
      })
      return res
    },
    vjp: ({ inputs: [x], dy, attrs, needs }) => {
      if (!needs[0]) return [undefined]
      let g = dy
      attrs.axes.forEach((a, i) => (g = unsliceAxis(g, a, attrs.starts[i]!, attrs.steps[i]!, x!.shape[a]!)))
      return [g]
    }
  },
  Concat: {
    infer: (inputs, { axis }) => {
      if (inputs.length === 0) shapeError("Concat", "needs at least one input")
      const dtype = sameDtype("Concat", inputs)
      const first = inputs[0]!
      if (axis < 0 || axis >= first.shape.length) shapeError("Concat", `axis ${axis} is out of range for rank ${first.shape.length}`)
      let total = 0
      for (const t of inputs) {
        const ok = t.shape.length === first.shape.length && t.shape.every((d, i) => i === axis || d === first.shape[i])
        if (!ok) shapeError("Concat", `shapes differ outside axis ${axis}: ${inputs.map((u) => showShape(u.shape)).join(", ")}`)
        total += t.shape[axis]!
      }
      const shape = [...first.shape]
      shape[axis] = total
      return { dtype, shape }
    },
    evaluate: (inputs, { axis }, out) => {
      const res = new Float64Array(sizeOf(out.shape))
      const inner = out.shape.slice(axis + 1).reduce((p, q) => p * q, 1)
      const outer = out.shape.slice(0, axis).reduce((p, q) => p * q, 1)
      const rowOut = out.shape[axis]! * inner
      let offset = 0
      for (const t of inputs) {
        const row = t.shape[axis]! * inner
        for (let o = 0; o < outer; o++) res.set(t.data.subarray(o * row, (o + 1) * row), o * rowOut + offset)
        offset += row
      }
      return res
    },
    vjp: ({ inputs, dy, attrs: { axis }, needs }) => {
      let start = 0
      return inputs.map((t, i) => {
        const end = start + t.shape[axis]!
        const g = needs[i] ? slice(dy, [{ axis, start, end }]) : undefined
        start = end
        return g
      })
    }
  },
  Pad: {
    infer: (inputs, { pads }) => {
      expectArity("Pad", inputs, 1)
      const x = inputs[0]!
      const r = x.shape.length
      if (pads.length !== 2 * r || pads.some((p) => !Number.isInteger(p) || p < 0)) shapeError("Pad", `pads must be ${2 * r} non-negative integers for ${showShape(x.shape)}, got [${pads.join(",")}]`)
      return { dtype: x.dtype, shape: x.shape.map((d, i) => d + pads[i]! + pads[r + i]!) }
    },
    evaluate: ([x], { pads }, out) => {
      const res = new Float64Array(sizeOf(out.shape))
      const outStrides = stridesOf(out.shape)
      forEachIndex(x!.shape, (i, c) => {
        let o = 0
        for (let d = 0; d < c.length; d++) o += (c[d]! + pads[d]!) * outStrides[d]!
        res[o] = x!.data[i]!
      })
      return res
    },
    vjp: ({ inputs: [x], dy, attrs: { pads }, needs }) => {
      if (!needs[0]) return [undefined]
      return [slice(dy, x!.shape.map((d, a) => ({ axis: a, start: pads[a]!, end: pads[a]! + d })))]
    }
  },
  Trilu: {
    infer: (inputs: ReadonlyArray<TensorType>, { k }) => {
      expectArity("Trilu", inputs, 1)
      const x = inputs[0]!
      if (x.shape.length < 2) shapeError("Trilu", `needs rank ≥ 2, got ${showShape(x.shape)}`)
      if (!Number.isInteger(k)) shapeError("Trilu", `k must be an integer, got ${k}`)
      return x
    },
    evaluate: ([x], { upper, k }) => {
      const r = x!.shape.length
      const cols = x!.shape[r - 1]!
      const rows = x!.shape[r - 2]!
      return x!.data.map((v, i) => {
        const j = i % cols
        const row = Math.floor(i / cols) % rows
        const keep = upper ? j - row >= k : j - row <= k
        return keep ? v : 0
      })
    },
    vjp: ({ dy, attrs, needs }) => [needs[0] ? dy.graph.apply("Trilu", [dy], attrs) : undefined]
  }
}
