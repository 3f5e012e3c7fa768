/**
 * Elementwise unary ops (math, activations, Cast, Clip). Activation VJPs are
 * written with primitive ops so every backend can run them.
 */
import { and, cast, cos, div, erf as erfOp, exp, greaterOrEqual, lessOrEqual, mul, neg, sign, sin, sub, tanh as tanhOp, where, add, square } from "../api.ts"
import { shapeError } from "../errors.ts"
import type { Tensor } from "../graph.ts"
import type { OpName } from "../ir.ts"
import { isFloat } from "../ir.ts"
import { erf } from "./erf.ts"
import { roundToFloat16 } from "./float16.ts"
import { expectArity, expectFloat } from "./shape-util.ts"
import type { OpDef, OpDefs, TensorType, Value, VjpContext } from "./types.ts"

const mapValues = (f: (x: number) => number) => (inputs: ReadonlyArray<Value>) => {
  const x = inputs[0]!.data
  const res = new Float64Array(x.length)
  for (let i = 0; i < x.length; i++) res[i] = f(x[i]!)
  return res
}

const same = (op: string, kind: "float" | "numeric" | "bool") => (inputs: ReadonlyArray<TensorType>): TensorType => {
  expectArity(op, inputs, 1)
  const t = inputs[0]!
  if (kind === "float") expectFloat(op, t)
  if (kind === "numeric" && t.dtype === "bool") shapeError(op, "expects a numeric tensor, got bool")
  if (kind === "bool" && t.dtype !== "bool") shapeError(op, `expects a bool tensor, got ${t.dtype}`)
  return { dtype: t.dtype, shape: t.shape }
}

const unary = <K extends OpName>(
  op: K,
  kind: "float" | "numeric" | "bool",
  f: (x: number) => number,
  vjp?: (x: Tensor, y: Tensor, dy: Tensor, ctx: VjpContext<K>) => Tensor
): OpDef<K> => ({
  infer: same(op, kind),
  evaluate: mapValues(f),
  ...(vjp === undefined ? {} : { vjp: (ctx: VjpContext<K>) => [ctx.needs[0] ? vjp(ctx.inputs[0]!, ctx.output, ctx.dy, ctx) : undefined] })
})

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI)
const GELU_C = 0.044715
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)))
const geluErf = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2))

const sigmoidOf = (x: Tensor): Tensor => x.graph.apply("Sigmoid", [x], {})

/** Definitions of the elementwise unary ops. */
export const unaryOps: OpDefs = {
  Neg: unary("Neg", "numeric", (x) => -x, (_x, _y, dy) => neg(dy)),
  Abs: unary("Abs", "numeric", Math.abs, (x, _y, dy) => mul(dy, sign(x))),
  Sign: unary("Sign", "numeric", Math.sign),
  Sqrt: unary("Sqrt", "float", Math.sqrt, (_x, y, dy) => div(mul(dy, 0.5), y)),
  Rsqrt: unary("Rsqrt", "float", (x) => 1 / Math.sqrt(x), (x, y, dy) => mul(mul(dy, -0.5), div(y, x))),
  Reciprocal: unary("Reciprocal", "float", (x) => 1 / x, (_x, y, dy) => neg(mul(dy, square(y)))),
  Exp: unary("Exp", "float", Math.exp, (_x, y, dy) => mul(dy, y)),
  Log: unary("Log", "float", Math.log, (x, _y, dy) => div(dy, x)),
  Tanh: unary("Tanh", "float", Math.tanh, (_x, y, dy) => mul(dy, sub(1, square(y)))),
  Sigmoid: unary("Sigmoid", "float", sigmoid, (_x, y, dy) => mul(dy, mul(y, sub(1, y)))),
  // d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))
  Silu: unary("Silu", "float", (x) => x * sigmoid(x), (x, _y, dy) => {
    const s = sigmoidOf(x)
    return mul(dy, mul(s, add(1, mul(x, sub(1, s)))))
  }),
  Relu: unary("Relu", "numeric", (x) => Math.max(x, 0), (x, _y, dy) => where(x.graph.apply("Greater", [x, x.graph.scalar(0, x.dtype)], {}), dy, 0)),
  Gelu: {
    infer: same("Gelu", "float"),
    evaluate: (inputs, attrs) => mapValues(attrs.approximate === "tanh" ? geluTanh : geluErf)(inputs),
    vjp: ({ inputs: [x], dy, attrs, needs }) => {
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
    }
  },
  Erf: unary("Erf", "float", erf, (x, _y, dy) => mul(dy, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI)))),
  Cos: unary("Cos", "float", Math.cos, (x, _y, dy) => neg(mul(dy, sin(x)))),
  Sin: unary("Sin", "float", Math.sin, (x, _y, dy) => mul(dy, cos(x))),
  Not: unary("Not", "bool", (x) => (x !== 0 ? 0 : 1)),
  Identity: unary("Identity", "numeric", (x) => x, (_x, _y, dy) => dy),
  Cast: {
    infer: (inputs, attrs) => {
      expectArity("Cast", inputs, 1)
      return { dtype: attrs.to, shape: inputs[0]!.shape }
    },
    evaluate: (inputs, attrs) => {
      const to = attrs.to
      if (to === "bool") return mapValues((x) => (x !== 0 ? 1 : 0))(inputs)
      if (to === "int32" || to === "int64") return mapValues(Math.trunc)(inputs)
      if (to === "float32") return mapValues(Math.fround)(inputs)
      if (to === "float16") return mapValues(roundToFloat16)(inputs)
      return mapValues((x) => x)(inputs)
    },
    vjp: ({ inputs: [x], dy, needs }) => [needs[0] && isFloat(x!.dtype) ? cast(dy, x!.dtype) : undefined]
  },
  Clip: {
    infer: (inputs, attrs) => {
      const t = same("Clip", "numeric")(inputs)
      if (attrs.min !== undefined && attrs.max !== undefined && attrs.min > attrs.max) shapeError("Clip", `min ${attrs.min} > max ${attrs.max}`)
      return t
    },
    evaluate: (inputs, attrs) => mapValues((x) => Math.min(Math.max(x, attrs.min ?? -Infinity), attrs.max ?? Infinity))(inputs),
    vjp: ({ inputs: [x], dy, attrs, needs }) => {
      if (!needs[0]) return [undefined]
      const g = x!.graph
      const lo = attrs.min === undefined ? undefined : greaterOrEqual(x!, g.scalar(attrs.min, x!.dtype))
      const hi = attrs.max === undefined ? undefined : lessOrEqual(x!, g.scalar(attrs.max, x!.dtype))
      const inside = lo && hi ? and(lo, hi) : (lo ?? hi)
      return [inside === undefined ? dy : where(inside, dy, 0)]
    }
  }
}
