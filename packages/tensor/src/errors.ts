/**
 * Typed errors of the tensor package, one per failure mode.
 *
 * Build-time errors are thrown synchronously by the builder (a program with a bad
 * shape is a programming error at the call site), but they are tagged Schema errors,
 * so Effect code can also `yield*` / catch them by tag.
 *
 * @example
 * ```ts
 * import { ShapeError } from "@refine-af/tensor"
 * const e = new ShapeError({ op: "MatMul", message: "MatMul: inner dimensions differ: [2,3] x [4,5]" })
 * ```
 */
import { Schema } from "effect"

/** An op got inputs whose shapes, dtypes or attributes do not fit its rule. */
export class ShapeError extends Schema.TaggedError<ShapeError>()("ShapeError", {
  op: Schema.String,
  message: Schema.String
}) {}

/** A program was run without a required input, or with a value of the wrong shape/dtype. */
export class FeedError extends Schema.TaggedError<FeedError>()("FeedError", {
  name: Schema.String,
  message: Schema.String
}) {}

/** Autodiff was asked for something it cannot do (non-scalar loss, unknown parameter, …). */
export class GradientError extends Schema.TaggedError<GradientError>()("GradientError", {
  message: Schema.String
}) {}

/** A program is malformed (unknown output name, duplicate names, …). */
export class ProgramError extends Schema.TaggedError<ProgramError>()("ProgramError", {
  message: Schema.String
}) {}

/** Formats a shape the way error messages print it: `[2,3]`. */
export const showShape = (shape: ReadonlyArray<number>): string => `[${shape.join(",")}]`

/** Throws a {@link ShapeError} for `op` (helper for shape rules). */
export const shapeError = (op: string, detail: string): never => {
  throw new ShapeError({ op, message: `${op}: ${detail}` })
}
