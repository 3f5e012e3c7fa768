/**
 * The program builder. A {@link Graph} accumulates nodes (inferring each one's dtype
 * and shape as it is added) and a {@link Tensor} is a handle to one node. Op helpers
 * (`add`, `matmul`, … in `api.ts`) call {@link Graph.apply}.
 *
 * Building is cheap and deterministic: identical op applications are shared
 * (hash-consing = common-subexpression elimination for free), ops whose
 * inputs are all small constants are folded into constants, and exact no-ops
 * (x·1, x+0, −(−x), transpose∘transpose) are skipped (`passes/peephole.ts`).
 *
 * @example
 * ```ts
 * import { Graph, matmul } from "@refine-af/tensor"
 * const g = new Graph()
 * const x = g.input("x", "float32", [2, 3])
 * const w = g.parameter("w", "float32", [3, 4])
 * g.output("y", matmul(x, w))
 * const program = g.build()
 * ```
 */
import { ProgramError, shapeError } from "./errors.ts"
import type { DType, NamedValue, Node, NodeId, OpAttributes, OpName, ParameterInfo, Program, Shape } from "./ir.ts"
import { isFloat as isFloatType, sizeOf } from "./ir.ts"
import { opDef } from "./ops/registry.ts"
import { peephole } from "./passes/peephole.ts"
import { roundToFloat16 } from "./ops/float16.ts"
import type { TensorType, Value } from "./ops/types.ts"

/** Constants up to this many elements take part in folding and sharing. */
const FOLD_LIMIT = 4096

/** A handle to one node of a {@link Graph}. */
export class Tensor implements TensorType {
  constructor(
    readonly graph: Graph,
    readonly id: NodeId,
    readonly dtype: DType,
    readonly shape: Shape
  ) {}
  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length
  }
  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape)
  }
}

/**
 * A recomputed region of a graph (activation checkpointing): the nodes with
 * ids in [first, end) that {@link Graph.checkpoint} recorded, and the
 * activations it was given. Autodiff recomputes the region's values from
 * those activations in the backward pass instead of keeping them alive.
 */
export interface CheckpointSegment {
  readonly first: NodeId
  readonly end: NodeId
  readonly inputs: ReadonlyArray<NodeId>
}

/** Options of {@link Graph.parameter}. */
export interface ParameterOptions {
  /** Whether autodiff and optimizers treat it as a variable (default true). */
  readonly trainable?: boolean
}

/** A program under construction. */
export class Graph {
  private readonly nodes: Array<Node> = []
  private readonly inputs: Array<NamedValue> = []
  private readonly parameters: Array<ParameterInfo> = []
  private readonly outputs: Array<NamedValue> = []
  private readonly leafNames = new Set<string>()
  private readonly shared = new Map<string, NodeId>()
  private readonly segments: Array<CheckpointSegment> = []
  private openSegment = false

  /** Declares a run-time input. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    this.claimLeafName(name)
    const t = this.push("Input", [], { name }, { dtype, shape })
    this.inputs.push({ name, id: t.id })
    return t
  }

  /** Declares a named weight (trainable unless `trainable: false`). */
  parameter(name: string, dtype: DType, shape: Shape, options: ParameterOptions = {}): Tensor {
    this.claimLeafName(name)
    const trainable = options.trainable ?? true
    const t = this.push("Parameter", [], { name, trainable }, { dtype, shape })
    this.parameters.push({ name, id: t.id, trainable })
    return t
  }

  /** Embeds a constant; `value` is row-major with product(shape) elements, or one number (broadcast). */
  constant(value: number | ArrayLike<number>, dtype: DType, shape: Shape = []): Tensor {
    const n = sizeOf(shape)
    const data = new Float64Array(n)
    if (typeof value === "number") data.fill(roundTo(dtype, value))
    else {
      if (value.length !== n) shapeError("Constant", `${value.length} values given for shape [${shape.join(",")}] (${n} elements)`)
      for (let i = 0; i < n; i++) data[i] = roundTo(dtype, value[i]!)
    }
    return this.push("Constant", [], { value: data }, { dtype, shape: [...shape] })
  }

  /** A scalar constant of `dtype`. */
  scalar(value: number, dtype: DType): Tensor {
    return this.constant(value, dtype, [])
  }

  /** Applies `op` to `inputs`, inferring the output type (throws `ShapeError` on misuse). */
  apply<K extends OpName>(op: K, inputs: ReadonlyArray<Tensor>, attrs: OpAttributes[K]): Tensor {
    this.checkOwn(op, inputs)
    const def = opDef(op)
    const type = def.infer(inputs, attrs)
    const folded = this.tryFold(op, inputs, attrs, type) ?? peephole(this, op, inputs, attrs, type)
    if (folded !== undefined) return folded
    return this.push(op, inputs.map((t) => t.id), attrs, type)
  }

  /**
   * Builds `body` as a checkpointed segment (gradient checkpointing): the
   * forward pass computes it as usual, and `gradients` recomputes its values
   * from `inputs` when the backward pass reaches it, so only `inputs` (and the
   * segment's results) stay alive between the passes, not every activation
   * inside. Every computed node of `body` is the segment's own: it shares no
   * node with what was built outside it or in another segment (a transposed
   * weight read by two segments is two nodes), so no value computed for one
   * segment's forward pass is kept for another's recomputation. Segments do
   * not nest.
   */
  checkpoint<T>(inputs: ReadonlyArray<Tensor>, body: () => T): T {
    if (this.openSegment) throw new ProgramError({ message: "Graph.checkpoint: segments do not nest; checkpoint the outer region or the inner ones, not both" })
    const first = this.nodes.length
    for (const t of inputs) {
      if (t.graph !== this) throw new ProgramError({ message: "Graph.checkpoint: an input tensor belongs to another Graph" })
      if (!isFloatType(t.dtype)) throw new ProgramError({ message: `Graph.checkpoint: input node ${t.id} is ${t.dtype}; checkpoint inputs are float activations` })
    }
    this.openSegment = true
    try {
      const result = body()
      if (this.nodes.length > first) this.segments.push({ first, end: this.nodes.length, inputs: inputs.map((t) => t.id) })
      return result
    } finally {
      this.openSegment = false
    }
  }

  /** The checkpointed segments recorded so far, in build order. */
  checkpointSegments(): ReadonlyArray<CheckpointSegment> {
    return this.segments
  }

  /**
   * Applies `op` as a new node that no other application shares (no
   * folding, no peephole, no hash-consing with existing or later nodes):
   * a recomputed value that must not be the forward pass's own.
   */
  applyUnshared<K extends OpName>(op: K, inputs: ReadonlyArray<Tensor>, attrs: OpAttributes[K]): Tensor {
    this.checkOwn(op, inputs)
    const type = opDef(op).infer(inputs, attrs)
    const id = this.nodes.length
    this.nodes.push({ id, op, inputs: inputs.map((t) => t.id), attrs, dtype: type.dtype, shape: type.shape } as unknown as Node)
    return new Tensor(this, id, type.dtype, type.shape)
  }

  /** Marks `tensor` as the program output `name`. */
  output(name: string, tensor: Tensor): void {
    if (this.outputs.some((o) => o.name === name)) throw new ProgramError({ message: `output "${name}" is declared twice; give each output a unique name` })
    this.outputs.push({ name, id: tensor.id })
  }

  /** Whether an output called `name` is declared. */
  hasOutput(name: string): boolean {
    return this.outputs.some((o) => o.name === name)
  }

  /** The tensor handle for an existing node id. */
  tensor(id: NodeId): Tensor {
    const n = this.nodes[id]
    if (n === undefined) throw new ProgramError({ message: `node ${id} does not exist` })
    return new Tensor(this, id, n.dtype, n.shape)
  }

  /** The node behind a tensor. */
  node(t: Tensor | NodeId): Node {
    return this.nodes[typeof t === "number" ? t : t.id]!
  }

  /** Number of nodes so far. */
  get size(): number {
    return this.nodes.length
  }

  /** The named parameters declared so far. */
  parameterList(): ReadonlyArray<ParameterInfo> {
    return this.parameters
  }

  /** Snapshot of the program (nodes are shared, not copied). */
  build(): Program {
    return { nodes: [...this.nodes], inputs: [...this.inputs], parameters: [...this.parameters], outputs: [...this.outputs] }
  }

  /** Rebuilds a graph from a program, so more nodes can be appended (e.g. gradients). */
  static fromProgram(program: Program): Graph {
    const g = new Graph()
    for (const n of program.nodes) {
      g.nodes.push(n)
      g.shared.set(shareKey(n.op, n.inputs, n.attrs, n.dtype, n.shape) ?? `#${n.id}`, n.id)
    }
    g.inputs.push(...program.inputs)
    g.parameters.push(...program.parameters)
    g.outputs.push(...program.outputs)
    for (const v of [...program.inputs, ...program.parameters]) g.leafNames.add(v.name)
    return g
  }

  private checkOwn(op: OpName, inputs: ReadonlyArray<Tensor>): void {
    for (const t of inputs) {
      if (t.graph !== this) throw new ProgramError({ message: `${op}: an input tensor belongs to another Graph; build one program per Graph` })
    }
  }

  private claimLeafName(name: string): void {
    if (this.leafNames.has(name)) throw new ProgramError({ message: `input/parameter name "${name}" is used twice; names must be unique` })
    this.leafNames.add(name)
  }

  private push<K extends OpName>(op: K, inputs: ReadonlyArray<NodeId>, attrs: OpAttributes[K], type: TensorType): Tensor {
    const plain = shareKey(op, inputs, attrs, type.dtype, type.shape)
    // Inside a checkpoint segment, computed nodes are shared within that segment only (see `checkpoint`).
    const key = plain !== undefined && this.openSegment && op !== "Constant" ? `${plain}|segment ${this.segments.length}` : plain
    if (key !== undefined) {
      const hit = this.shared.get(key)
      if (hit !== undefined) return this.tensor(hit)
    }
    const id = this.nodes.length
    const node = { id, op, inputs, attrs, dtype: type.dtype, shape: type.shape } as unknown as Node
    this.nodes.push(node)
    if (key !== undefined) this.shared.set(key, id)
    return new Tensor(this, id, type.dtype, type.shape)
  }

  private tryFold<K extends OpName>(op: K, inputs: ReadonlyArray<Tensor>, attrs: OpAttributes[K], type: TensorType): Tensor | undefined {
    if (inputs.length === 0 || sizeOf(type.shape) > FOLD_LIMIT) return undefined
    const values: Array<Value> = []
    for (const t of inputs) {
      const n = this.nodes[t.id]!
      if (n.op !== "Constant") return undefined
      values.push({ dtype: n.dtype, shape: n.shape, data: n.attrs.value })
    }
    const data = opDef(op).evaluate(values, attrs, type)
    return this.push("Constant", [], { value: data }, type)
  }
}

/** Rounds a number to what `dtype` can hold (so constants mean the same on every backend). */
const roundTo = (dtype: DType, x: number): number => {
  switch (dtype) {
    case "float32":
      return Math.fround(x)
    case "float16":
      return roundToFloat16(x)
    case "int32":
    case "int64":
      return Math.trunc(x)
    case "bool":
      return x !== 0 ? 1 : 0
    default:
      return x
  }
}

/** Key identifying a node for sharing; undefined for leaves that must stay distinct. */
const shareKey = (op: OpName, inputs: ReadonlyArray<NodeId>, attrs: unknown, dtype: DType, shape: Shape): string | undefined => {
  if (op === "Input" || op === "Parameter") return undefined
  if (op === "Constant") {
    const value = (attrs as OpAttributes["Constant"]).value
    if (value.length > 16) return undefined
    // -0 and 0 must stay distinct constants (1/x tells them apart).
    return `C|${dtype}|${shape.join("x")}|${Array.from(value, (v) => (Object.is(v, -0) ? "-0" : String(v))).join(",")}`
  }
  return `${op}|${inputs.join(",")}|${JSON.stringify(attrs)}`
}
