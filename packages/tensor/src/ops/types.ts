/**
 * The per-op definition contract: every op family file provides, for each op,
 * its shape/dtype rule, its float64 reference evaluation and its VJP.
 */
import type { Tensor } from "../graph.ts"
import type { DType, OpAttributes, OpName, Shape } from "../ir.ts"

/** Static type of a value: dtype + shape. */
export interface TensorType {
  readonly dtype: DType
  readonly shape: Shape
}

/** A concrete value in the reference interpreter: always float64 storage, row-major. */
export interface Value extends TensorType {
  readonly data: Float64Array
}

/** What a VJP rule gets: the node's inputs and output as graph tensors, and the output cotangent. */
export interface VjpContext<K extends OpName> {
  readonly inputs: ReadonlyArray<Tensor>
  readonly output: Tensor
  readonly attrs: OpAttributes[K]
  /** Cotangent of the output (same shape and dtype as `output`). */
  readonly dy: Tensor
  /** `needs[i]` is true when the gradient of input i is wanted; other entries may be undefined. */
  readonly needs: ReadonlyArray<boolean>
}

/** Shape rule, reference evaluation and (optional) VJP of one op. */
export interface OpDef<K extends OpName> {
  /** Infers the output type; throws `ShapeError` naming the op, shapes and dtypes. */
  readonly infer: (inputs: ReadonlyArray<TensorType>, attrs: OpAttributes[K]) => TensorType
  /** Float64 reference semantics. */
  readonly evaluate: (inputs: ReadonlyArray<Value>, attrs: OpAttributes[K], out: TensorType) => Float64Array
  /** Cotangents of the inputs (undefined where not needed or not differentiable). Absent = not differentiable. */
  readonly vjp?: (ctx: VjpContext<K>) => ReadonlyArray<Tensor | undefined>
}

/** Op definitions for a family of ops. */
export type OpDefs = { readonly [K in OpName]?: OpDef<K> }
