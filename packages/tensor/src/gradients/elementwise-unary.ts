/**
 * VJPs of the elementwise unary ops. Activation VJPs are written with
 * primitive ops so every backend can run them.
 */
import { add, and, cast, cos, div, erf as erfOp, exp, greaterOrEqual, lessOrEqual, mul, neg, sign, sin, square, sub, tanh as tanhOp, where } from "../api.ts"
import type { Tensor } from "../graph.ts"
import { isFloat, type OpName } from "../ir.ts"
import { GELU_C, SQRT_2_OVER_PI } from "../ops/elementwise-unary.ts"
import type { VjpContext, VjpRule, VjpRules } from "./types.ts"

/** A one-input rule from `(x, y, dy) → dx`, skipped when dx is not needed. */
const unary =
  <K extends OpName>(f: (x: Tensor, y: Tensor, dy: Tensor, ctx: VjpContext<K>) => Tensor): VjpRule<K> =>
  (ctx) => [ctx.needs[0] ? f(ctx.inputs[0]!, ctx.output, ctx.dy, ctx) : undefined]

const sigmoidOf = (x: Tensor): Tensor => x.graph.apply("Sigmoid", [x], {})

/** VJP rules of the elementwise unary ops (Sign and Not have none). */
export const unaryVjps: VjpRules = {
  Neg: unary((_x, _y, dy) => neg(dy)),
  Abs: unary((x, _y, dy) => mul(dy, sign(x))),
  Sqrt: unary((_x, y, dy) => div(mul(dy, 0.5), y)),
  Rsqrt: unary((x, y, dy) => mul(mul(dy, -0.5), div(y, x))),
  Reciprocal: unary((_x, y, dy) => neg(mul(dy, square(y)))),
  Exp: unary((_x, y, dy) => mul(dy, y)),
  Log: unary((x, _y, dy) => div(dy, x)),
  Tanh: unary((_x, y, dy) => mul(dy, sub(1, square(y)))),
  Sigmoid: unary((_x, y, dy) => mul(dy, mul(y, sub(1, y)))),
  // d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))
  Silu: unary((x, _y, dy) => {
    const s = sigmoidOf(x)
    return mul(dy, mul(s, add(1, mul(x, sub(1, s)))))
  }),
  Relu: unary((x, _y, dy) => where(x.graph.apply("Greater", [x, x.graph.scalar(0, x.dtype)], {}), dy, 0)),
  Gelu: ({ inputs: [x], dy, attrs, needs }) => {
    if (!needs[0]) return [undefined]
    if (attrs.approximate === "none") {
      // Φ(x) + x·φ(x), φ(x) = e^{-x²/2}/√(2π)
      const cdf = mul(add(erfOp(mul(x!, Math.SQRT1_2)), 1), 0.5)
      const pdf = mul(exp(mul(square(x!), -0.5)), 1 / Math.sqrt(2 * Math.PI))
      return [mul(dy, add(cdf, mul(x!, pdf)))]
    }
    // u = √(2/π)(x + c x³); d/dx = 0.5(1 + tanh u) + 0.5 x (1 − tanh² u) √(2/π)(1 + 3c x²)
    const x2 = square(x!)
    const t = tanhOp(mul(add(x!, mul(mul(x2, x!), GELU_C)), SQRT_2_OVER_PI))
    const du = mul(add(mul(x2, 3 * GELU_C), 1), SQRT_2_OVER_PI)
    const d = add(mul(add(t, 1), 0.5), mul(mul(mul(x!, 0.5), sub(1, square(t))), du))
    return [mul(dy, d)]
  },
  Erf: unary((x, _y, dy) => mul(dy, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI)))),
  Cos: unary((x, _y, dy) => neg(mul(dy, sin(x)))),
  Sin: unary((x, _y, dy) => mul(dy, cos(x))),
  Identity: unary((_x, _y, dy) => dy),
  Cast: ({ inputs: [x], dy, needs }) => [needs[0] && isFloat(x!.dtype) ? cast(dy, x!.dtype) : undefined],
  Clip: ({ inputs: [x], dy, attrs, needs }) => {
    if (!needs[0]) return [undefined]
    const g = x!.graph
    const lo = attrs.min === undefined ? undefined : greaterOrEqual(x!, g.scalar(attrs.min, x!.dtype))
    const hi = attrs.max === undefined ? undefined : lessOrEqual(x!, g.scalar(attrs.max, x!.dtype))
    const inside = lo && hi ? and(lo, hi) : (lo ?? hi)
    return [inside === undefined ? dy : where(inside, dy, 0)]
  }
}
