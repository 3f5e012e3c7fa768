/**
 * The per-op definition contract: every op family file provides, for each op,
 * its shape/dtype rule and its float64 reference evaluation. Gradient rules
 * live apart, in `gradients/` (read by autodiff only), so op definitions do not
 * depend on the graph builder. A leaf module: it imports only the IR.
 */
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

/** Shape rule and reference evaluation of one op. */
export interface OpDef<K extends OpName> {
  /** Infers the output type; throws `ShapeError` naming the op, shapes and dtypes. */
  readonly infer: (inputs: ReadonlyArray<TensorType>, attrs: OpAttributes[K]) => TensorType
  /** Float64 reference semantics. */
  readonly evaluate: (inputs: ReadonlyArray<Value>, attrs: OpAttributes[K], out: TensorType) => Float64Array
}

/** Op definitions for a family of ops. */
export type OpDefs = { readonly [K in OpName]?: OpDef<K> }
