/**
 * The tensor-program IR: the one data structure every backend compiles and the
 * reference interpreter executes.
 *
 * A {@link Program} is a flat list of {@link Node}s in topological order. Node ids
 * are dense: `program.nodes[i].id === i`, and every input id of a node is smaller
 * than the node's own id. Every node has exactly one output whose dtype and static
 * shape are inferred when the node is built (so a backend never infers anything).
 *
 * Leaves are nodes too: `Input` (fed at run time, by name), `Parameter` (a named
 * weight; `trainable` says whether autodiff/optimizers treat it as a variable —
 * a backend may bake frozen parameters in as initializers) and `Constant` (values
 * embedded in the program).
 *
 * Op semantics mirror ONNX (opset 18+) so that compilation is mostly 1:1:
 * numpy-style broadcasting for elementwise ops, row-major layout. All axis
 * attributes are NORMALISED at build time: non-negative, sorted where order does
 * not matter, no `-1`/`0` placeholders in shapes. Attributes that ONNX takes as
 * tensor inputs (Reshape shape, Slice starts, Clip bounds, Expand shape, Trilu k,
 * ReduceX axes, Squeeze/Unsqueeze axes, Pad pads) are static attributes here; a
 * backend turns them into int64 initializers.
 *
 * This file is a stable contract: changes are additive only.
 *
 * @example
 * ```ts
 * import type { Program } from "@refine-af/tensor"
 * const describe = (p: Program) => p.nodes.map((n) => `${n.id}: ${n.op} [${n.shape.join(",")}]`)
 * ```
 */

/** Element types. `float64` exists for the reference interpreter and numerics tests. */
export type DType = "float32" | "float16" | "float64" | "int32" | "int64" | "bool"

/** A static shape; `[]` is a scalar. Every dimension is a concrete integer ≥ 0. */
export type Shape = ReadonlyArray<number>

/** Index of a node in {@link Program.nodes}. */
export type NodeId = number

/**
 * Attributes of every op, keyed by op name. The doc comment of each entry is the
 * op's exact semantics (inputs in order → output).
 */
export interface OpAttributes {
  // ---------------------------------------------------------------- leaves
  /** Run-time input, fed by `name`. No inputs. */
  Input: { readonly name: string }
  /** Named weight. `trainable: false` = frozen (e.g. base weights under LoRA). No inputs. */
  Parameter: { readonly name: string; readonly trainable: boolean }
  /**
   * Embedded constant. `value` is row-major, length = product(shape), stored as
   * float64 whatever the node dtype (exact for every dtype we use: ints up to
   * 2^53, bool as 0/1); the backend converts it to the node dtype. No inputs.
   */
  Constant: { readonly value: Float64Array }

  // ------------------------------------------------------- linear algebra
  /**
   * (a, b) → numpy matmul. Both ranks ≥ 2: a [..., m, k], b [..., k, n] → [..., m, n];
   * batch dims broadcast. Same float dtype.
   */
  MatMul: Record<string, never>

  // ------------------------------------------- elementwise binary (broadcast)
  /** (a, b) → a + b. Numpy broadcasting; same dtype (any numeric). */
  Add: Record<string, never>
  /** (a, b) → a - b. */
  Sub: Record<string, never>
  /** (a, b) → a * b. */
  Mul: Record<string, never>
  /** (a, b) → a / b (float); integer division truncates toward zero like ONNX. */
  Div: Record<string, never>
  /** (a, b) → a ** b. Float dtypes, same dtype. */
  Pow: Record<string, never>
  /** (a, b) → elementwise minimum (ONNX Min with two inputs). */
  Min: Record<string, never>
  /** (a, b) → elementwise maximum (ONNX Max with two inputs). */
  Max: Record<string, never>
  /** (a, b) → bool a == b. */
  Equal: Record<string, never>
  /** (a, b) → bool a < b. */
  Less: Record<string, never>
  /** (a, b) → bool a <= b. */
  LessOrEqual: Record<string, never>
  /** (a, b) → bool a > b. */
  Greater: Record<string, never>
  /** (a, b) → bool a >= b. */
  GreaterOrEqual: Record<string, never>
  /** (a, b) bool → bool a && b. */
  And: Record<string, never>
  /** (a, b) bool → bool a || b. */
  Or: Record<string, never>
  /** (cond bool, x, y) → cond ? x : y, three-way broadcast; x, y same dtype. */
  Where: Record<string, never>

  // --------------------------------------------------- elementwise unary
  /** (x) → -x. */
  Neg: Record<string, never>
  /** (x) → |x|. */
  Abs: Record<string, never>
  /** (x) → sign(x) ∈ {-1, 0, 1}. */
  Sign: Record<string, never>
  /** (x) → sqrt(x). Float. */
  Sqrt: Record<string, never>
  /** (x) → 1 / sqrt(x). Float. ONNX: Reciprocal(Sqrt(x)). */
  Rsqrt: Record<string, never>
  /** (x) → 1 / x. Float. */
  Reciprocal: Record<string, never>
  /** (x) → e^x. */
  Exp: Record<string, never>
  /** (x) → natural log. */
  Log: Record<string, never>
  /** (x) → tanh(x). */
  Tanh: Record<string, never>
  /** (x) → 1 / (1 + e^-x). */
  Sigmoid: Record<string, never>
  /** (x) → x * sigmoid(x). ONNX: Mul(x, Sigmoid(x)). */
  Silu: Record<string, never>
  /** (x) → max(x, 0). */
  Relu: Record<string, never>
  /**
   * (x) → GELU. `approximate: "none"`: x·Φ(x) = 0.5·x·(1 + erf(x/√2));
   * `"tanh"`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). ONNX Gelu (opset 20).
   */
  Gelu: { readonly approximate: "none" | "tanh" }
  /** (x) → erf(x). */
  Erf: Record<string, never>
  /** (x) → cos(x). */
  Cos: Record<string, never>
  /** (x) → sin(x). */
  Sin: Record<string, never>
  /** (x bool) → !x. */
  Not: Record<string, never>
  /**
   * (x) → x (a copy; used to rename/expose a value as an output). With
   * `stopGradient: true` autodiff treats the output as a constant (torch's
   * `detach`); backends lower it as a plain Identity. (Attribute added later,
   * optional: older programs are unaffected.)
   */
  Identity: { readonly stopGradient?: boolean }
  /** (x) → x converted to `to` (float→int truncates toward zero; bool is 0/1). */
  Cast: { readonly to: DType }
  /** (x) → min(max(x, min), max); a missing bound is unbounded. */
  Clip: { readonly min?: number; readonly max?: number }

  // ---------------------------------------------------------- normalising
  /** (x) → softmax along `axis` (normalised ≥ 0). */
  Softmax: { readonly axis: number }
  /** (x) → log-softmax along `axis`. */
  LogSoftmax: { readonly axis: number }

  // ----------------------------------------------------------- reductions
  /**
   * (x) → sum over `axes` (non-empty, sorted, unique, ≥ 0). `keepdims` keeps reduced
   * axes as size 1. Reducing "everything" lists every axis explicitly.
   */
  ReduceSum: { readonly axes: ReadonlyArray<number>; readonly keepdims: boolean }
  /** (x) → mean over `axes`; as ReduceSum. */
  ReduceMean: { readonly axes: ReadonlyArray<number>; readonly keepdims: boolean }
  /** (x) → max over `axes`; as ReduceSum. */
  ReduceMax: { readonly axes: ReadonlyArray<number>; readonly keepdims: boolean }

  // ---------------------------------------------------------------- shape
  /** (x) → same data, shape `shape` (fully resolved, same element count). */
  Reshape: { readonly shape: Shape }
  /** (x) → axes permuted: out.shape[i] = x.shape[perm[i]]. */
  Transpose: { readonly perm: ReadonlyArray<number> }
  /**
   * (x) → ONNX Slice with static, normalised attributes: for each listed axis
   * (sorted, unique) take indices starts[i], starts[i]+steps[i], … < ends[i];
   * 0 ≤ starts ≤ ends ≤ dim, steps ≥ 1. Unlisted axes are kept whole.
   */
  Slice: {
    readonly starts: ReadonlyArray<number>
    readonly ends: ReadonlyArray<number>
    readonly axes: ReadonlyArray<number>
    readonly steps: ReadonlyArray<number>
  }
  /** (x0, x1, ...) → concatenation along `axis`; other dims must match. */
  Concat: { readonly axis: number }
  /** (x) → x broadcast to `shape` (numpy rules; output shape is exactly `shape`). */
  Expand: { readonly shape: Shape }
  /** (x) → size-1 `axes` removed (sorted, each x.shape[a] === 1). */
  Squeeze: { readonly axes: ReadonlyArray<number> }
  /** (x) → size-1 axes inserted at `axes` (positions in the OUTPUT, sorted). */
  Unsqueeze: { readonly axes: ReadonlyArray<number> }
  /**
   * (x) → constant zero padding: `pads` has 2·rank entries, ONNX order
   * [begin_0, …, begin_{r-1}, end_0, …, end_{r-1}], all ≥ 0.
   */
  Pad: { readonly pads: ReadonlyArray<number> }
  /**
   * (x) → ONNX Trilu over the last two dims: `upper` keeps j - i ≥ k (triu),
   * otherwise keeps j - i ≤ k (tril); the rest becomes 0 (false for bool).
   */
  Trilu: { readonly upper: boolean; readonly k: number }

  // ------------------------------------------------------------- indexing
  /**
   * (data, indices int32|int64) → ONNX Gather along `axis`:
   * out.shape = data.shape[:axis] ++ indices.shape ++ data.shape[axis+1:].
   * Indices must be in [0, dim) (negative indices are not supported).
   */
  Gather: { readonly axis: number }
  /**
   * (data, indices) → ONNX GatherElements (take-along-axis): indices has the rank
   * of data, out.shape = indices.shape, out[i..j..] = data[.. indices[i..j..] ..] at `axis`.
   */
  GatherElements: { readonly axis: number }
  /**
   * (data, indices, updates) → ONNX ScatterElements: copy of data where for every
   * position p of indices/updates (same shape), out[p with axis := indices[p]]
   * is set to (`"none"`) or incremented by (`"add"`) updates[p].
   */
  ScatterElements: { readonly axis: number; readonly reduction: "none" | "add" }
}

/** Every op name. */
export type OpName = keyof OpAttributes

/** The op list, in declaration order (for iteration, e.g. by conformance suites). */
export const opNames: ReadonlyArray<OpName> = [
  "Input", "Parameter", "Constant", "MatMul",
  "Add", "Sub", "Mul", "Div", "Pow", "Min", "Max",
  "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Where",
  "Neg", "Abs", "Sign", "Sqrt", "Rsqrt", "Reciprocal", "Exp", "Log", "Tanh", "Sigmoid",
  "Silu", "Relu", "Gelu", "Erf", "Cos", "Sin", "Not", "Identity", "Cast", "Clip",
  "Softmax", "LogSoftmax", "ReduceSum", "ReduceMean", "ReduceMax",
  "Reshape", "Transpose", "Slice", "Concat", "Expand", "Squeeze", "Unsqueeze", "Pad", "Trilu",
  "Gather", "GatherElements", "ScatterElements"
]

/** A node of a given op: its attributes are typed by the op. */
export interface NodeOf<K extends OpName> {
  readonly id: NodeId
  readonly op: K
  readonly inputs: ReadonlyArray<NodeId>
  readonly attrs: OpAttributes[K]
  /** Output element type. */
  readonly dtype: DType
  /** Output static shape. */
  readonly shape: Shape
}

/** Any node; `switch (node.op)` narrows `attrs`. */
export type Node = { [K in OpName]: NodeOf<K> }[OpName]

/** A named program input or output, pointing at a node. */
export interface NamedValue {
  readonly name: string
  readonly id: NodeId
}

/** A named weight of the program. */
export interface ParameterInfo extends NamedValue {
  readonly trainable: boolean
}

/**
 * A complete tensor program. `inputs`/`parameters` list the leaf nodes by name in
 * creation order; `outputs` are the values a run returns (names unique, several
 * outputs may point at the same node).
 */
export interface Program {
  readonly nodes: ReadonlyArray<Node>
  readonly inputs: ReadonlyArray<NamedValue>
  readonly parameters: ReadonlyArray<ParameterInfo>
  readonly outputs: ReadonlyArray<NamedValue>
}

/** A dtype of floating point kind (the only ones autodiff differentiates). */
export const isFloat = (dtype: DType): boolean =>
  dtype === "float32" || dtype === "float16" || dtype === "float64"

/** A dtype of integer kind. */
export const isInteger = (dtype: DType): boolean => dtype === "int32" || dtype === "int64"

/** Number of elements of a shape (1 for a scalar). */
export const sizeOf = (shape: Shape): number => {
  let n = 1
  for (const d of shape) n *= d
  return n
}
