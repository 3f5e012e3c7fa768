/**
 * VJPs of the broadcasting binary ops (arithmetic and Where); comparisons and
 * logic ops have none.
 */
import { div, greater, greaterOrEqual, less, lessOrEqual, log, mul, neg, pow, sub, sumToShape, where } from "../api.ts"
import type { Tensor } from "../graph.ts"
import type { VjpRules } from "./types.ts"

const grads = (inputs: ReadonlyArray<Tensor>, needs: ReadonlyArray<boolean>, f0: () => Tensor, f1: () => Tensor) => [
  needs[0] ? sumToShape(f0(), inputs[0]!.shape) : undefined,
  needs[1] ? sumToShape(f1(), inputs[1]!.shape) : undefined
]

/** VJP rules of the broadcasting binary ops. */
export const binaryVjps: VjpRules = {
  Add: ({ inputs, dy, needs }) => grads(inputs, needs, () => dy, () => dy),
  Sub: ({ inputs, dy, needs }) => grads(inputs, needs, () => dy, () => neg(dy)),
  Mul: ({ inputs: [a, b], dy, needs }) => grads([a!, b!], needs, () => mul(dy, b!), () => mul(dy, a!)),
  Div: ({ inputs: [a, b], output, dy, needs }) => grads([a!, b!], needs, () => div(dy, b!), () => neg(div(mul(dy, output), b!))),
  Pow: ({ inputs: [a, b], output, dy, needs }) =>
    grads(
      [a!, b!],
      needs,
      () => mul(dy, mul(b!, pow(a!, sub(b!, 1)))),
      () => mul(dy, mul(output, log(a!)))
    ),
  // Ties send the gradient to the first operand (torch splits it; ties have measure zero).
  Min: ({ inputs: [a, b], dy, needs }) =>
    grads([a!, b!], needs, () => where(lessOrEqual(a!, b!), dy, 0), () => where(greater(a!, b!), dy, 0)),
  Max: ({ inputs: [a, b], dy, needs }) =>
    grads([a!, b!], needs, () => where(greaterOrEqual(a!, b!), dy, 0), () => where(less(a!, b!), dy, 0)),
  Where: ({ inputs: [c, x, y], dy, needs }) => [
    undefined,
    needs[1] ? sumToShape(where(c!, dy, 0), x!.shape) : undefined,
    needs[2] ? sumToShape(where(c!, 0, dy), y!.shape) : undefined
  ]
}
