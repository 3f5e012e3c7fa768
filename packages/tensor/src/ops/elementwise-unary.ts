/**
 * Elementwise unary ops (math, activations, Cast, Clip).
 */
import { shapeError } from "../errors.ts"
import type { OpName } from "../ir.ts"
import { erf } from "./erf.ts"
import { roundToFloat16 } from "./float16.ts"
import { expectArity, expectFloat } from "./shape-util.ts"
import type { OpDef, OpDefs, TensorType, Value } from "./types.ts"

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
  f: (x: number) => number
): OpDef<K> => ({
  infer: same(op, kind),
  evaluate: mapValues(f)
})

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))
/** √(2/π), of the tanh approximation of GELU (shared with its VJP). */
export const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI)
/** The cubic coefficient of the tanh approximation of GELU. */
export const GELU_C = 0.044715
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)))
const geluErf = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2))

/** Definitions of the elementwise unary ops. */
export const unaryOps: OpDefs = {
  Neg: unary("Neg", "numeric", (x) => -x),
  Abs: unary("Abs", "numeric", Math.abs),
  Sign: unary("Sign", "numeric", Math.sign),
  Sqrt: unary("Sqrt", "float", Math.sqrt),
  Rsqrt: unary("Rsqrt", "float", (x) => 1 / Math.sqrt(x)),
  Reciprocal: unary("Reciprocal", "float", (x) => 1 / x),
  Exp: unary("Exp", "float", Math.exp),
  Log: unary("Log", "float", Math.log),
  Tanh: unary("Tanh", "float", Math.tanh),
  Sigmoid: unary("Sigmoid", "float", sigmoid),
  Silu: unary("Silu", "float", (x) => x * sigmoid(x)),
  Relu: unary("Relu", "numeric", (x) => Math.max(x, 0)),
  Gelu: {
    infer: same("Gelu", "float"),
    evaluate: (inputs, attrs) => mapValues(attrs.approximate === "tanh" ? geluTanh : geluErf)(inputs)
  },
  Erf: unary("Erf", "float", erf),
  Cos: unary("Cos", "float", Math.cos),
  Sin: unary("Sin", "float", Math.sin),
  Not: unary("Not", "bool", (x) => (x !== 0 ? 0 : 1)),
  Identity: unary("Identity", "numeric", (x) => x),
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
    }
  },
  Clip: {
    infer: (inputs, attrs) => {
      const t = same("Clip", "numeric")(inputs)
      if (attrs.min !== undefined && attrs.max !== undefined && attrs.min > attrs.max) shapeError("Clip", `min ${attrs.min} > max ${attrs.max}`)
      return t
    },
    evaluate: (inputs, attrs) => mapValues((x) => Math.min(Math.max(x, attrs.min ?? -Infinity), attrs.max ?? Infinity))(inputs)
  }
}
