/**
 * VJPs of the reductions and of Softmax / LogSoftmax.
 */
import { cast, div, equal, exp, expand, mul, reshape, sub, sum } from "../api.ts"
import type { Tensor } from "../graph.ts"
import { reducedShape, reducedCount } from "../ops/shape-util.ts"
import type { VjpRules } from "./types.ts"

/** Gradient of a reduction: dy broadcast back over the reduced axes. */
const spread = (x: Tensor, dy: Tensor, axes: ReadonlyArray<number>): Tensor =>
  expand(reshape(dy, reducedShape(x.shape, axes, true)), x.shape)

/** VJP rules of the reductions and softmax ops. */
export const reduceVjps: VjpRules = {
  ReduceSum: ({ inputs: [x], dy, attrs, needs }) => [needs[0] ? spread(x!, dy, attrs.axes) : undefined],
  ReduceMean: ({ inputs: [x], dy, attrs, needs }) => [needs[0] ? div(spread(x!, dy, attrs.axes), reducedCount(x!.shape, attrs.axes)) : undefined],
  // Ties share the gradient evenly, as torch.amax does.
  ReduceMax: ({ inputs: [x], output, dy, attrs, needs }) => {
    if (!needs[0]) return [undefined]
    const mask = cast(equal(x!, spread(x!, output, attrs.axes)), x!.dtype)
    const count = sum(mask, attrs.axes, true)
    return [mul(div(mask, count), spread(x!, dy, attrs.axes))]
  },
  // dx = y ⊙ (dy − Σ dy⊙y)
  Softmax: ({ output: y, dy, attrs, needs }) => [needs[0] ? mul(y, sub(dy, sum(mul(dy, y), attrs.axis, true))) : undefined],
  // dx = dy − softmax ⊙ Σ dy
  LogSoftmax: ({ output: y, dy, attrs, needs }) => [needs[0] ? sub(dy, mul(exp(y), sum(dy, attrs.axis, true))) : undefined]
}
