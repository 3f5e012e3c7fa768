/**
 * The typed op helpers: one function per IR op (plus a few conveniences), each
 * appending a node to the graph its tensor arguments belong to. Numbers are
 * accepted wherever a broadcastable operand is, and become scalar constants of
 * the other operand's dtype.
 *
 * @example
 * ```ts
 * import { Graph, add, mul, softmax } from "@refine-af/tensor"
 * const g = new Graph()
 * const x = g.input("x", "float32", [2, 5])
 * g.output("p", softmax(add(mul(x, 2), 1), -1))
 * ```
 */
import { ShapeError } from "./errors.ts"
import type { Tensor } from "./graph.ts"
import type { DType, Shape } from "./ir.ts"
import { sizeOf } from "./ir.ts"
import { normAxes, normAxis } from "./ops/shape-util.ts"

/** A tensor or a plain number (promoted to a scalar constant). */
export type TensorLike = Tensor | number

const pair = (op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] => {
  if (typeof a === "number" && typeof b === "number") throw new ShapeError({ op, message: `${op}: at least one operand must be a Tensor` })
  const ta = typeof a === "number" ? (b as Tensor).graph.scalar(a, (b as Tensor).dtype) : a
  const tb = typeof b === "number" ? ta.graph.scalar(b, ta.dtype) : b
  return [ta, tb]
}

const binary =
  <K extends "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Min" | "Max" | "Equal" | "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual" | "And" | "Or">(op: K) =>
  (a: TensorLike, b: TensorLike): Tensor => {
    const [x, y] = pair(op, a, b)
    return x.graph.apply(op, [x, y], {} as never)
  }

const unary =
  <K extends "Neg" | "Abs" | "Sign" | "Sqrt" | "Rsqrt" | "Reciprocal" | "Exp" | "Log" | "Tanh" | "Sigmoid" | "Silu" | "Relu" | "Erf" | "Cos" | "Sin" | "Not" | "Identity">(op: K) =>
  (x: Tensor): Tensor =>
    x.graph.apply(op, [x], {} as never)

/** a + b (broadcast). */
export const add = binary("Add")
/** a - b (broadcast). */
export const sub = binary("Sub")
/** a * b (broadcast). */
export const mul = binary("Mul")
/** a / b (broadcast). */
export const div = binary("Div")
/** a ** b (broadcast). */
export const pow = binary("Pow")
/** Elementwise minimum. */
export const minimum = binary("Min")
/** Elementwise maximum. */
export const maximum = binary("Max")
/** a == b → bool. */
export const equal = binary("Equal")
/** a < b → bool. */
export const less = binary("Less")
/** a <= b → bool. */
export const lessOrEqual = binary("LessOrEqual")
/** a > b → bool. */
export const greater = binary("Greater")
/** a >= b → bool. */
export const greaterOrEqual = binary("GreaterOrEqual")
/** Logical and of bools. */
export const and = binary("And")
/** Logical or of bools. */
export const or = binary("Or")

/** -x. */
export const neg = unary("Neg")
/** |x|. */
export const abs = unary("Abs")
/** sign(x). */
export const sign = unary("Sign")
/** sqrt(x). */
export const sqrt = unary("Sqrt")
/** 1/sqrt(x). */
export const rsqrt = unary("Rsqrt")
/** 1/x. */
export const reciprocal = unary("Reciprocal")
/** e^x. */
export const exp = unary("Exp")
/** ln x. */
export const log = unary("Log")
/** tanh x. */
export const tanh = unary("Tanh")
/** Logistic sigmoid. */
export const sigmoid = unary("Sigmoid")
/** x·sigmoid(x). */
export const silu = unary("Silu")
/** max(x, 0). */
export const relu = unary("Relu")
/** erf x. */
export const erf = unary("Erf")
/** cos x. */
export const cos = unary("Cos")
/** sin x. */
export const sin = unary("Sin")
/** Logical not. */
export const not = unary("Not")
/** A copy of x. */
export const identity = unary("Identity")
/** x, but gradients do not flow through it (torch's `detach`), e.g. for fixed RL targets. */
export const stopGradient = (x: Tensor): Tensor => x.graph.apply("Identity", [x], { stopGradient: true })

/** GELU, exact (erf) or tanh-approximated. */
export const gelu = (x: Tensor, approximate: "none" | "tanh" = "none"): Tensor => x.graph.apply("Gelu", [x], { approximate })
/** Converts to `to`. A no-op when the dtype already matches. */
export const cast = (x: Tensor, to: DType): Tensor => (x.dtype === to ? x : x.graph.apply("Cast", [x], { to }))
/** Clamps into [min, max]; omit a bound for none. */
export const clip = (x: Tensor, min?: number, max?: number): Tensor =>
  x.graph.apply("Clip", [x], { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) })
/** cond ? a : b (three-way broadcast). */
export const where = (cond: Tensor, a: TensorLike, b: TensorLike): Tensor => {
  const [x, y] = pair("Where", a, b)
  return cond.graph.apply("Where", [cond, x, y], {})
}

/** Batched matrix product (numpy matmul, ranks ≥ 2). */
export const matmul = (a: Tensor, b: Tensor): Tensor => a.graph.apply("MatMul", [a, b], {})

/** Softmax along `axis` (negative counts from the end). */
export const softmax = (x: Tensor, axis = -1): Tensor => x.graph.apply("Softmax", [x], { axis: normAxis("Softmax", axis, x.rank) })
/** Log-softmax along `axis`. */
export const logSoftmax = (x: Tensor, axis = -1): Tensor =>
  x.graph.apply("LogSoftmax", [x], { axis: normAxis("LogSoftmax", axis, x.rank) })

const reducer =
  (op: "ReduceSum" | "ReduceMean" | "ReduceMax") =>
  (x: Tensor, axes?: number | ReadonlyArray<number>, keepdims = false): Tensor => {
    const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : axes
    if (list.length === 0) return x
    return x.graph.apply(op, [x], { axes: normAxes(op, list, x.rank), keepdims })
  }
/** Sum over `axes` (all when omitted). */
export const sum = reducer("ReduceSum")
/** Mean over `axes` (all when omitted). */
export const mean = reducer("ReduceMean")
/** Max over `axes` (all when omitted). */
export const max = reducer("ReduceMax")

/** Reshape; one dimension may be -1 (inferred). */
export const reshape = (x: Tensor, shape: ReadonlyArray<number>): Tensor => {
  const known = shape.filter((d) => d !== -1)
  const free = shape.length - known.length
  let resolved = [...shape]
  if (free > 1) throw new ShapeError({ op: "Reshape", message: `Reshape: at most one -1 allowed in ${JSON.stringify(shape)}` })
  if (free === 1) {
    const k = sizeOf(known)
    const inferred = k === 0 ? 0 : x.size / k
    resolved = shape.map((d) => (d === -1 ? inferred : d))
  }
  if (resolved.length === x.rank && resolved.every((d, i) => d === x.shape[i])) return x
  return x.graph.apply("Reshape", [x], { shape: resolved })
}
/** Permutes axes (default: reverse them). */
export const transpose = (x: Tensor, perm?: ReadonlyArray<number>): Tensor =>
  x.graph.apply("Transpose", [x], { perm: perm ?? x.shape.map((_, i) => x.rank - 1 - i) })
/** Swaps the last two axes. */
export const transposeLast2 = (x: Tensor): Tensor => {
  const perm = x.shape.map((_, i) => i)
  perm[x.rank - 1] = x.rank - 2
  perm[x.rank - 2] = x.rank - 1
  return transpose(x, perm)
}

/** Slice specification for one axis: [start, end) with step (python-like, negatives allowed). */
export interface SliceSpec {
  readonly axis: number
  readonly start?: number
  readonly end?: number
  readonly step?: number
}
/** ONNX-style slice; negative start/end count from the end and are clamped like python. */
export const slice = (x: Tensor, specs: ReadonlyArray<SliceSpec>): Tensor => {
  const norm = specs
    .map((s) => {
      const axis = normAxis("Slice", s.axis, x.rank)
      const dim = x.shape[axis]!
      const clampIdx = (v: number) => Math.min(dim, Math.max(0, v < 0 ? v + dim : v))
      const start = clampIdx(s.start ?? 0)
      const end = Math.max(start, clampIdx(s.end ?? dim))
      const step = s.step ?? 1
      if (!Number.isInteger(step) || step < 1) throw new ShapeError({ op: "Slice", message: `Slice: step must be a positive integer, got ${step}` })
      return { axis, start, end, step }
    })
    .sort((a, b) => a.axis - b.axis)
  return x.graph.apply("Slice", [x], {
    axes: norm.map((s) => s.axis),
    starts: norm.map((s) => s.start),
    ends: norm.map((s) => s.end),
    steps: norm.map((s) => s.step)
  })
}
/** Concatenation along `axis`. */
export const concat = (xs: ReadonlyArray<Tensor>, axis: number): Tensor => {
  const first = xs[0]
  if (first === undefined) throw new ShapeError({ op: "Concat", message: "Concat: needs at least one input" })
  if (xs.length === 1) return first
  return first.graph.apply("Concat", xs, { axis: normAxis("Concat", axis, first.rank) })
}
/** Broadcasts to `shape`. No-op when already that shape. */
export const expand = (x: Tensor, shape: Shape): Tensor =>
  shape.length === x.rank && shape.every((d, i) => d === x.shape[i]) ? x : x.graph.apply("Expand", [x], { shape: [...shape] })
/** Removes size-1 axes (all of them when omitted). */
export const squeeze = (x: Tensor, axes?: ReadonlyArray<number>): Tensor => {
  const list = axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
  return list.length === 0 ? x : x.graph.apply("Squeeze", [x], { axes: normAxes("Squeeze", list, x.rank) })
}
/** Inserts size-1 axes at output positions `axes`. */
export const unsqueeze = (x: Tensor, axes: number | ReadonlyArray<number>): Tensor => {
  const list = typeof axes === "number" ? [axes] : axes
  return x.graph.apply("Unsqueeze", [x], { axes: normAxes("Unsqueeze", list, x.rank + list.length) })
}
/** Zero padding; `pads` = [begin_0..begin_{r-1}, end_0..end_{r-1}]. */
export const pad = (x: Tensor, pads: ReadonlyArray<number>): Tensor =>
  pads.every((p) => p === 0) ? x : x.graph.apply("Pad", [x], { pads: [...pads] })
/** Upper triangle (j - i ≥ k) of the last two dims, rest zero. */
export const triu = (x: Tensor, k = 0): Tensor => x.graph.apply("Trilu", [x], { upper: true, k })
/** Lower triangle (j - i ≤ k) of the last two dims, rest zero. */
export const tril = (x: Tensor, k = 0): Tensor => x.graph.apply("Trilu", [x], { upper: false, k })

/** Gathers slices of `data` along `axis` at integer `indices` (embedding lookup with axis 0). */
export const gather = (data: Tensor, indices: Tensor, axis = 0): Tensor =>
  data.graph.apply("Gather", [data, indices], { axis: normAxis("Gather", axis, data.rank) })
/** Take-along-axis (e.g. token log-probs: gatherElements(logp, targets[..., None], -1)). */
export const gatherElements = (data: Tensor, indices: Tensor, axis: number): Tensor =>
  data.graph.apply("GatherElements", [data, indices], { axis: normAxis("GatherElements", axis, data.rank) })
/** Scatter `updates` into a copy of `data` at `indices` along `axis`, replacing or adding. */
export const scatterElements = (data: Tensor, indices: Tensor, updates: Tensor, axis: number, reduction: "none" | "add" = "none"): Tensor =>
  data.graph.apply("ScatterElements", [data, indices, updates], { axis: normAxis("ScatterElements", axis, data.rank), reduction })

/** A tensor of zeros of the given shape/dtype (a broadcast scalar, cheap in any backend). */
export const zerosLike = (x: { readonly graph: Tensor["graph"]; readonly dtype: DType; readonly shape: Shape }): Tensor =>
  expand(x.graph.scalar(0, x.dtype), x.shape)
/** Square of x. */
export const square = (x: Tensor): Tensor => mul(x, x)

/**
 * Sums a broadcast gradient back to `shape` (the input shape before broadcasting):
 * the core of every broadcasting VJP.
 */
export const sumToShape = (x: Tensor, shape: Shape): Tensor => {
  const lead = x.rank - shape.length
  const axes: Array<number> = []
  for (let i = 0; i < x.rank; i++) {
    if (i < lead) axes.push(i)
    else if (shape[i - lead] === 1 && x.shape[i] !== 1) axes.push(i)
  }
  const reduced = axes.length === 0 ? x : sum(x, axes, true)
  return reshape(reduced, shape)
}
