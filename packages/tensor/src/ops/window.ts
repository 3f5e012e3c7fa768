/**
 * Ops that select or place windows of data: Slice, Concat, Pad, Trilu.
 */
import { shapeError, showShape } from "../errors.ts"
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
    }
  }
}
