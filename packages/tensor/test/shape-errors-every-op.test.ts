/**
 * Every op rejects at least one misuse with a ShapeError whose message starts with
 * the op name (so a user can tell which op of a large model failed).
 */
import { describe, expect, it } from "vitest"
import * as T from "../src/index.ts"

const g = new T.Graph()
const f = (shape: ReadonlyArray<number>, dtype: T.DType = "float32") => g.input(`in${g.size}`, dtype, shape)
const apply = (op: T.OpName, inputs: ReadonlyArray<T.Tensor>, attrs: object = {}) => () => g.apply(op, inputs, attrs as never)
const bool = T.greater(f([2, 3]), 0)

const misuse: Partial<Record<T.OpName, ReadonlyArray<() => unknown>>> = {
  MatMul: [apply("MatMul", [f([2, 3]), f([4, 5])])],
  Where: [apply("Where", [f([2]), f([2]), f([2])]), apply("Where", [bool, f([2, 3]), f([2, 3], "float64")])],
  Not: [apply("Not", [f([2])])],
  And: [apply("And", [f([2]), bool])],
  Or: [apply("Or", [bool, f([2])])],
  Cast: [apply("Cast", [f([2]), f([2])], { to: "float32" })],
  Clip: [apply("Clip", [bool], {}), apply("Clip", [f([2])], { min: 1, max: 0 })],
  Softmax: [apply("Softmax", [f([2, 3])], { axis: 2 }), apply("Softmax", [f([2], "int32")], { axis: 0 })],
  LogSoftmax: [apply("LogSoftmax", [f([2, 3])], { axis: -1 })],
  ReduceSum: [apply("ReduceSum", [f([2, 3])], { axes: [2], keepdims: false })],
  ReduceMean: [apply("ReduceMean", [f([2, 3])], { axes: [], keepdims: false })],
  ReduceMax: [apply("ReduceMax", [f([2, 3])], { axes: [1, 0], keepdims: true }), apply("ReduceMax", [bool], { axes: [0], keepdims: true })],
  Reshape: [apply("Reshape", [f([2, 3])], { shape: [5] }), apply("Reshape", [f([2, 3])], { shape: [-1, 3] })],
  Transpose: [apply("Transpose", [f([2, 3])], { perm: [1] })],
  Slice: [apply("Slice", [f([4])], { starts: [3], ends: [1], axes: [0], steps: [1] }), apply("Slice", [f([4])], { starts: [0], ends: [5], axes: [0], steps: [1] })],
  Concat: [apply("Concat", [f([2, 3]), f([2, 4])], { axis: 0 }), apply("Concat", [f([2]), f([2])], { axis: 1 })],
  Expand: [apply("Expand", [f([3])], { shape: [2, 4] })],
  Squeeze: [apply("Squeeze", [f([2, 1])], { axes: [0] })],
  Unsqueeze: [apply("Unsqueeze", [f([2])], { axes: [0, 0] })],
  Pad: [apply("Pad", [f([2])], { pads: [1, -1] })],
  Trilu: [apply("Trilu", [f([3])], { upper: true, k: 0 }), apply("Trilu", [f([3, 3])], { upper: true, k: 0.5 })],
  Gather: [apply("Gather", [f([4, 2]), f([3])], { axis: 0 }), apply("Gather", [f([4, 2]), f([3], "int64")], { axis: 2 })],
  GatherElements: [apply("GatherElements", [f([4, 2]), f([4, 3], "int64")], { axis: 0 })],
  ScatterElements: [apply("ScatterElements", [f([4, 2]), f([2, 2], "int64"), f([2, 2], "float64")], { axis: 0, reduction: "add" })]
}

for (const op of ["Add", "Sub", "Mul", "Div", "Pow", "Min", "Max"] as const)
  misuse[op] = [apply(op, [f([2, 3]), f([3, 2])]), apply(op, [f([2]), f([2], "float64")]), apply(op, [bool, bool])]
for (const op of ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"] as const)
  misuse[op] = [apply(op, [f([2, 3]), f([4])]), apply(op, [f([2]), f([2], "int64")])]
for (const op of ["Sqrt", "Rsqrt", "Reciprocal", "Exp", "Log", "Tanh", "Sigmoid", "Silu", "Erf", "Cos", "Sin"] as const)
  misuse[op] = [apply(op, [f([2], "int32")]), apply(op, [f([2]), f([2])])]
for (const op of ["Neg", "Abs", "Sign", "Relu", "Identity"] as const) misuse[op] = [apply(op, [bool])]
misuse.Gelu = [apply("Gelu", [f([2], "int64")], { approximate: "none" })]

describe("every op rejects misuse with a ShapeError naming it", () => {
  const ops = T.opNames.filter((op) => op !== "Input" && op !== "Parameter" && op !== "Constant")
  for (const op of ops) {
    it(op, () => {
      const cases = misuse[op] ?? []
      expect(cases.length, `no misuse case for ${op}`).toBeGreaterThan(0)
      for (const build of cases) {
        let caught: unknown
        try {
          build()
        } catch (e) {
          caught = e
        }
        expect(caught, `${op} accepted a misuse`).toBeInstanceOf(T.ShapeError)
        expect((caught as T.ShapeError).message.startsWith(`${op}: `), (caught as Error).message).toBe(true)
      }
    })
  }

  it("leaves cannot be applied as ops", () => {
    expect(() => g.apply("Input", [], { name: "z" })).toThrow(/Input: is a leaf/)
  })
})
