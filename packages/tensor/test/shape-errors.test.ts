/**
 * Shape/dtype inference rejects misuse with a ShapeError naming the op, shapes and dtypes.
 */
import { describe, expect, it } from "vitest"
import * as T from "../src/index.ts"

const g = new T.Graph()
const f32 = (name: string, shape: ReadonlyArray<number>) => g.input(name, "float32", shape)
const a23 = f32("a23", [2, 3])
const a45 = f32("a45", [4, 5])
const a34 = f32("a34", [3, 4])
const v3 = f32("v3", [3])
const i64 = g.input("i64", "int64", [2])
const f64 = g.input("f64", "float64", [2, 3])
const b23 = T.greater(a23, 0)

const cases: ReadonlyArray<[string, () => unknown, RegExp]> = [
  ["MatMul inner", () => T.matmul(a23, a45), /^MatMul: inner dimensions differ: \[2,3\] x \[4,5\]$/],
  ["MatMul rank", () => T.matmul(v3, a34), /MatMul: both operands need rank ≥ 2: \[3\] x \[3,4\]/],
  ["MatMul batch", () => T.matmul(f32("b1", [2, 2, 3]), f32("b2", [3, 3, 4])), /MatMul: shapes cannot broadcast: \[2\] vs \[3\]/],
  ["MatMul dtype", () => T.matmul(a23, g.input("d34", "float64", [3, 4])), /MatMul: dtypes differ: float32 vs float64/],
  ["MatMul int", () => T.matmul(g.input("i23", "int32", [2, 3]), g.input("i34", "int32", [3, 4])), /MatMul: expects a float tensor, got int32/],
  ["Add broadcast", () => T.add(a23, a34), /Add: shapes cannot broadcast: \[2,3\] vs \[3,4\]/],
  ["Add dtype", () => T.add(a23, f64), /Add: dtypes differ: float32 vs float64/],
  ["Add bool", () => T.add(b23, b23), /Add: expects numeric tensors, got bool/],
  ["Where cond", () => T.where(a23, a23, a23), /Where: condition must be bool, got float32/],
  ["And dtype", () => T.and(a23, a23), /And: expects bool tensors, got float32/],
  ["Sqrt int", () => T.sqrt(i64), /Sqrt: expects a float tensor, got int64/],
  ["Not float", () => T.not(a23), /Not: expects a bool tensor, got float32/],
  ["Clip bounds", () => T.clip(a23, 2, 1), /Clip: min 2 > max 1/],
  ["Softmax axis", () => T.softmax(a23, 2), /Softmax: axis 2 is out of range for rank 2/],
  ["ReduceSum axis", () => T.sum(a23, [5]), /ReduceSum: axis 5 is out of range for rank 2/],
  ["ReduceMean dup", () => T.mean(a23, [1, -1]), /ReduceMean: axis 1 is listed twice/],
  ["Reshape size", () => T.reshape(a23, [4, 2]), /Reshape: cannot reshape \[2,3\] \(6 elements\) to \[4,2\] \(8 elements\)/],
  ["Reshape two -1", () => T.reshape(a23, [-1, -1]), /Reshape: at most one -1/],
  ["Transpose perm", () => T.transpose(a23, [0, 0]), /Transpose: perm \[0,0\] is not a permutation of the 2 axes of \[2,3\]/],
  ["Slice step", () => T.slice(a23, [{ axis: 0, step: 0 }]), /Slice: step must be a positive integer, got 0/],
  ["Concat shapes", () => T.concat([a23, a34], 0), /Concat: shapes differ outside axis 0: \[2,3\], \[3,4\]/],
  ["Expand", () => T.expand(a23, [2, 4]), /Expand: shapes cannot broadcast: \[2,3\] vs \[2,4\]/],
  ["Squeeze non-1", () => T.squeeze(a23, [0]), /Squeeze: axis 0 of \[2,3\] has size 2, not 1/],
  ["Unsqueeze range", () => T.unsqueeze(a23, [4]), /Unsqueeze: axis 4 is out of range for rank 3/],
  ["Pad count", () => T.pad(a23, [1, 1]), /Pad: pads must be 4 non-negative integers for \[2,3\], got \[1,1\]/],
  ["Trilu rank", () => T.triu(v3), /Trilu: needs rank ≥ 2, got \[3\]/],
  ["Gather indices", () => T.gather(a23, a23), /Gather: indices must be int32 or int64, got float32/],
  ["GatherElements rank", () => T.gatherElements(a23, i64, 0), /GatherElements: indices \[2\] must have the rank of data \[2,3\]/],
  ["ScatterElements updates", () => T.scatterElements(a23, g.input("i22", "int64", [2, 2]), f32("u21", [2, 1]), 1), /ScatterElements: updates \[2,1\] must have the shape of indices \[2,2\]/],
  ["Constant size", () => g.constant([1, 2, 3], "float32", [2, 2]), /Constant: 3 values given for shape \[2,2\] \(4 elements\)/]
]

describe("shape inference errors", () => {
  for (const [name, build, message] of cases) {
    it(name, () => {
      let caught: unknown
      try {
        build()
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(T.ShapeError)
      expect((caught as T.ShapeError).message).toMatch(message)
    })
  }

  it("infers shapes and dtypes of valid ops", () => {
    expect(T.matmul(f32("m1", [5, 1, 2, 3]), f32("m2", [4, 3, 7])).shape).toEqual([5, 4, 2, 7])
    expect(T.add(a23, v3).shape).toEqual([2, 3])
    expect(T.less(a23, v3).dtype).toBe("bool")
    expect(T.sum(a23, [1], true).shape).toEqual([2, 1])
    expect(T.gather(f32("emb", [10, 4]), g.input("tok", "int32", [2, 5])).shape).toEqual([2, 5, 4])
    expect(T.slice(f32("s", [7, 3]), [{ axis: 0, start: 1, end: -1, step: 2 }]).shape).toEqual([3, 3])
    expect(T.reshape(a23, [-1]).shape).toEqual([6])
  })

  it("rejects duplicate names and foreign tensors", () => {
    const h = new T.Graph()
    h.input("x", "float32", [1])
    expect(() => h.parameter("x", "float32", [1])).toThrow(T.ProgramError)
    const other = new T.Graph().input("y", "float32", [1])
    expect(() => T.add(h.input("z", "float32", [1]), other)).toThrow(/belongs to another Graph/)
  })
})
