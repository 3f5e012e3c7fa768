/**
 * Broadcasting binary ops: arithmetic, comparisons, logic, Where.
 */
import { shapeError } from "../errors.ts"
import { isFloat } from "../ir.ts"
import { broadcastShapes, expectArity, forEachBroadcast, sameDtype } from "./shape-util.ts"
import type { OpDef, OpDefs, TensorType, Value } from "./types.ts"

const sameShape = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.length === b.length && a.every((d, i) => d === b[i])

const evalBinary = (f: (a: number, b: number) => number) => (inputs: ReadonlyArray<Value>, _attrs: unknown, out: TensorType) => {
  const [a, b] = inputs as [Value, Value]
  const res = new Float64Array(out.shape.reduce((x, y) => x * y, 1))
  const ad = a.data
  const bd = b.data
  // Fast paths (same shape, scalar operand) avoid the generic index walk; they are most of the work.
  if (ad.length === res.length && bd.length === res.length && sameShape(a.shape, b.shape)) {
    for (let i = 0; i < res.length; i++) res[i] = f(ad[i]!, bd[i]!)
    return res
  }
  if (bd.length === 1 && ad.length === res.length) {
    const s = bd[0]!
    for (let i = 0; i < res.length; i++) res[i] = f(ad[i]!, s)
    return res
  }
  if (ad.length === 1 && bd.length === res.length) {
    const s = ad[0]!
    for (let i = 0; i < res.length; i++) res[i] = f(s, bd[i]!)
    return res
  }
  forEachBroadcast(out.shape, [a.shape, b.shape], (o, idx) => {
    res[o] = f(ad[idx[0]!]!, bd[idx[1]!]!)
  })
  return res
}

const inferArith = (op: string) => (inputs: ReadonlyArray<TensorType>): TensorType => {
  expectArity(op, inputs, 2)
  const dtype = sameDtype(op, inputs)
  if (dtype === "bool") shapeError(op, "expects numeric tensors, got bool; cast to a number type first")
  return { dtype, shape: broadcastShapes(op, inputs.map((t) => t.shape)) }
}

const inferCompare = (op: string) => (inputs: ReadonlyArray<TensorType>): TensorType => {
  expectArity(op, inputs, 2)
  sameDtype(op, inputs)
  return { dtype: "bool", shape: broadcastShapes(op, inputs.map((t) => t.shape)) }
}

const inferLogic = (op: string) => (inputs: ReadonlyArray<TensorType>): TensorType => {
  expectArity(op, inputs, 2)
  for (const t of inputs) if (t.dtype !== "bool") shapeError(op, `expects bool tensors, got ${t.dtype}`)
  return { dtype: "bool", shape: broadcastShapes(op, inputs.map((t) => t.shape)) }
}

const truncDiv = (a: number, b: number) => Math.trunc(a / b)

const arith = <K extends "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Min" | "Max">(
  op: K,
  f: (a: number, b: number) => number
): OpDef<K> => ({
  infer: inferArith(op),
  evaluate: (inputs, attrs, out) =>
    op === "Div" && !isFloat(out.dtype) ? evalBinary(truncDiv)(inputs, attrs, out) : evalBinary(f)(inputs, attrs, out)
})

const compare = <K extends "Equal" | "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual">(op: K, f: (a: number, b: number) => boolean): OpDef<K> => ({
  infer: inferCompare(op),
  evaluate: evalBinary((a, b) => (f(a, b) ? 1 : 0))
})

/** Definitions of the broadcasting binary ops. */
export const binaryOps: OpDefs = {
  Add: arith("Add", (a, b) => a + b),
  Sub: arith("Sub", (a, b) => a - b),
  Mul: arith("Mul", (a, b) => a * b),
  Div: arith("Div", (a, b) => a / b),
  Pow: arith("Pow", (a, b) => Math.pow(a, b)),
  Min: arith("Min", Math.min),
  Max: arith("Max", Math.max),
  Equal: compare("Equal", (a, b) => a === b),
  Less: compare("Less", (a, b) => a < b),
  LessOrEqual: compare("LessOrEqual", (a, b) => a <= b),
  Greater: compare("Greater", (a, b) => a > b),
  GreaterOrEqual: compare("GreaterOrEqual", (a, b) => a >= b),
  And: { infer: inferLogic("And"), evaluate: evalBinary((a, b) => (a !== 0 && b !== 0 ? 1 : 0)) },
  Or: { infer: inferLogic("Or"), evaluate: evalBinary((a, b) => (a !== 0 || b !== 0 ? 1 : 0)) },
  Where: {
    infer: (inputs) => {
      expectArity("Where", inputs, 3)
      const [c, x, y] = inputs as [TensorType, TensorType, TensorType]
      if (c.dtype !== "bool") shapeError("Where", `condition must be bool, got ${c.dtype}`)
      const dtype = sameDtype("Where", [x, y])
      return { dtype, shape: broadcastShapes("Where", [c.shape, x.shape, y.shape]) }
    },
    evaluate: (inputs, _attrs, out) => {
      const [c, x, y] = inputs as [Value, Value, Value]
      const res = new Float64Array(out.shape.reduce((p, q) => p * q, 1))
      forEachBroadcast(out.shape, [c.shape, x.shape, y.shape], (o, idx) => {
        res[o] = c.data[idx[0]!] !== 0 ? x.data[idx[1]!]! : y.data[idx[2]!]!
      })
      return res
    }
  }
}

