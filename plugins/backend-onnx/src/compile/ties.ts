/**
 * Data dependencies built from ordinary ops, for values onnxruntime would
 * otherwise compute at the wrong time or not at all at run time.
 *
 * onnxruntime orders nodes by its own topological sort, in which a
 * DequantizeLinear of graph inputs alone may run long before its matmul
 * (every dequantised weight of a program alive at once); tying it to the
 * matmul's activation makes it run when that activation exists. And
 * onnxruntime's constant folding turns a node whose inputs are all constants
 * into an initializer the session keeps for its whole life: tying a large
 * constant `Expand` to a graph input keeps it a run-time value (made when
 * needed, freed after its last reader).
 */
import type { LoweringContext } from "./context.ts"

/**
 * A float32 [1] zero computed from the first element of `value`: a data
 * dependency only. The element goes through bool so NaN or ±Inf in it still
 * gives 0. Made once per value and program (q, k and v tie to one activation).
 */
export const zeroAfter = (ctx: LoweringContext, value: string): string => ctx.once(`zeroAfter:${value}`, () => {
  const flat = ctx.temp("flat")
  ctx.emit("Reshape", [value, ctx.int64s("shape", [-1])], [flat])
  const first = ctx.temp("first")
  ctx.emit("Slice", [flat, ctx.int64s("starts", [0]), ctx.int64s("ends", [1])], [first])
  const truth = ctx.temp("truth")
  ctx.emit("Cast", [first], [truth], [{ name: "to", int: 9 }])
  const one = ctx.temp("oneOrZero")
  ctx.emit("Cast", [truth], [one], [{ name: "to", int: 1 }])
  const zero = ctx.temp("zero")
  ctx.emit("Mul", [one, ctx.constant("zero", "float32", [1], [0])], [zero])
  return zero
})

/** An int64 shape tensor equal to `shape` that depends on `after` (see {@link zeroAfter}): for Reshape / Expand. */
export const tiedShape = (ctx: LoweringContext, shape: ReadonlyArray<number>, after: string): string => {
  const zero = ctx.temp("zeroInt")
  ctx.emit("Cast", [zeroAfter(ctx, after)], [zero], [{ name: "to", int: 7 }])
  const dims = ctx.temp("dims")
  ctx.emit("Add", [ctx.int64s("shape", shape), zero], [dims])
  return dims
}
