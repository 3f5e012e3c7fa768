/**
 * VJPs of the window ops: Slice, Concat, Pad, Trilu.
 */
import { pad, reshape, slice, unsqueeze } from "../api.ts"
import type { Tensor } from "../graph.ts"
import type { VjpRules } from "./types.ts"

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

/** VJP rules of the window ops. */
export const windowVjps: VjpRules = {
  Slice: ({ inputs: [x], dy, attrs, needs }) => {
    if (!needs[0]) return [undefined]
    let g = dy
    attrs.axes.forEach((a, i) => (g = unsliceAxis(g, a, attrs.starts[i]!, attrs.steps[i]!, x!.shape[a]!)))
    return [g]
  },
  Concat: ({ inputs, dy, attrs: { axis }, needs }) => {
    let start = 0
    return inputs.map((t, i) => {
      const end = start + t.shape[axis]!
      const g = needs[i] ? slice(dy, [{ axis, start, end }]) : undefined
      start = end
      return g
    })
  },
  Pad: ({ inputs: [x], dy, attrs: { pads }, needs }) => {
    if (!needs[0]) return [undefined]
    return [slice(dy, x!.shape.map((d, a) => ({ axis: a, start: pads[a]!, end: pads[a]! + d })))]
  },
  Trilu: ({ dy, attrs, needs }) => [needs[0] ? dy.graph.apply("Trilu", [dy], attrs) : undefined]
}
