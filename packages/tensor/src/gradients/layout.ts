/**
 * VJPs of the layout ops: each moves the cotangent back to the input's layout.
 */
import { reshape, sumToShape, transpose } from "../api.ts"
import type { VjpRules } from "./types.ts"

/** VJP rules of the layout ops. */
export const layoutVjps: VjpRules = {
  Reshape: ({ inputs: [x], dy, needs }) => [needs[0] ? reshape(dy, x!.shape) : undefined],
  Transpose: ({ dy, attrs: { perm }, needs }) => {
    const inverse = new Array<number>(perm.length)
    perm.forEach((p, i) => (inverse[p] = i))
    return [needs[0] ? transpose(dy, inverse) : undefined]
  },
  Expand: ({ inputs: [x], dy, needs }) => [needs[0] ? sumToShape(dy, x!.shape) : undefined],
  Squeeze: ({ inputs: [x], dy, needs }) => [needs[0] ? reshape(dy, x!.shape) : undefined],
  Unsqueeze: ({ inputs: [x], dy, needs }) => [needs[0] ? reshape(dy, x!.shape) : undefined]
}
