/**
 * Subgraphs the compiler emits as one onnxruntime kernel instead of one node
 * per IR op. A decode step of a small model is dominated by per-node cost,
 * not arithmetic: RMSNorm alone is seven nodes (`x·x`, mean, `+ε`, sqrt,
 * reciprocal, `x·r`, `·w`), twice per layer.
 *
 * RMSNorm `w · (x · rsqrt(mean(x·x, last axis) + ε))` (float32, as
 * `rmsNorm` in @refine-af/tensor builds it) becomes onnxruntime's
 * `SimplifiedLayerNormalization` (registered in the standard domain; CPU,
 * CUDA and WebGPU kernels), which onnxruntime may further fuse with a
 * preceding residual add. A match needs every intermediate value to be used
 * only inside the pattern: in a training step the backward pass reads them,
 * so nothing is fused there and the math stays exactly the IR's.
 */
import type { Node as IrNode, NodeId, Program } from "@refine-af/tensor"

/** One fused RMSNorm: its input, its weight and ε, emitted at the final multiply. */
export interface RmsNormFusion {
  readonly x: NodeId
  readonly weight: NodeId
  readonly epsilon: number
}

/** What the compiler emits differently: fused nodes by the IR node whose value they produce, and the IR nodes they absorb. */
export interface FusionPlan {
  readonly rmsNorms: ReadonlyMap<NodeId, RmsNormFusion>
  readonly skipped: ReadonlySet<NodeId>
}

/** Who reads each node's value (IR node ids; a node reading a value twice appears twice). */
export const consumersOf = (program: Program): Map<NodeId, Array<{ node: NodeId; slot: number }>> => {
  const consumers = new Map<NodeId, Array<{ node: NodeId; slot: number }>>()
  for (const node of program.nodes) {
    node.inputs.forEach((input, slot) => {
      const list = consumers.get(input) ?? []
      list.push({ node: node.id, slot })
      consumers.set(input, list)
    })
  }
  return consumers
}

const scalarConstant = (node: IrNode): number | undefined => {
  if (node.op !== "Constant") return undefined
  const value = (node.attrs as { value: ArrayLike<number> }).value
  return value.length === 1 ? value[0] : undefined
}

/** The fusions of `program`; `enabled: false` plans none (benchmarks compare both). */
export const planFusions = (program: Program, enabled: boolean): FusionPlan => {
  const rmsNorms = new Map<NodeId, RmsNormFusion>()
  const skipped = new Set<NodeId>()
  if (!enabled) return { rmsNorms, skipped }
  const consumers = consumersOf(program)
  const outputs = new Set(program.outputs.map((o) => o.id))
  const nodes = program.nodes
  // A value the pattern may absorb: not a program output and read once, by `reader`.
  const private_ = (id: NodeId, reader: NodeId) => {
    const uses = consumers.get(id) ?? []
    return !outputs.has(id) && uses.length === 1 && uses[0]!.node === reader
  }
  const other = (node: IrNode, id: NodeId) => (node.inputs[0] === id ? node.inputs[1]! : node.inputs[0]!)
  for (const scaled of nodes) {
    // scaled = w · normed (either operand order), normed = x · r, r = rsqrt(mean(x·x) + ε)
    if (scaled.op !== "Mul" || scaled.dtype !== "float32") continue
    for (const normedId of new Set(scaled.inputs)) {
      const normed = nodes[normedId]!
      if (normed.op !== "Mul" || !private_(normedId, scaled.id)) continue
      const weightId = other(scaled, normedId)
      const weight = nodes[weightId]!
      const width = scaled.shape[scaled.shape.length - 1]
      if (weight.dtype !== "float32" || weight.shape.length !== 1 || weight.shape[0] !== width) continue
      if (normed.shape.length !== scaled.shape.length || normed.shape.some((d, i) => d !== scaled.shape[i])) continue
      const match = matchInverseRms(nodes, normed, private_)
      if (match === undefined) continue
      rmsNorms.set(scaled.id, { x: match.x, weight: weightId, epsilon: match.epsilon })
      for (const id of [normedId, ...match.absorbed]) skipped.add(id)
      break
    }
  }
  // Constants (ε) read only by absorbed nodes would be unused initializers.
  for (const node of nodes) {
    if (node.op !== "Constant" || outputs.has(node.id)) continue
    const uses = consumers.get(node.id) ?? []
    if (uses.length > 0 && uses.every((u) => skipped.has(u.node))) skipped.add(node.id)
  }
  return { rmsNorms, skipped }
}

/** `normed = x · rsqrt(mean(x·x, last axis, keepdims) + ε)`: x, ε and the absorbed nodes. */
const matchInverseRms = (
  nodes: ReadonlyArray<IrNode>,
  normed: IrNode,
  private_: (id: NodeId, reader: NodeId) => boolean
): { x: NodeId; epsilon: number; absorbed: Array<NodeId> } | undefined => {
  for (const [slot, rootId] of normed.inputs.entries()) {
    const root = nodes[rootId]!
    const x = normed.inputs[1 - slot]!
    if (root.op !== "Rsqrt" || !private_(rootId, normed.id)) continue
    const shifted = nodes[root.inputs[0]!]!
    if (shifted.op !== "Add" || !private_(shifted.id, root.id)) continue
    const [a, b] = shifted.inputs as [NodeId, NodeId]
    const epsilonFirst = scalarConstant(nodes[a]!)
    const meanId = epsilonFirst !== undefined ? b : a
    const epsilon = epsilonFirst ?? scalarConstant(nodes[b]!)
    const mean = nodes[meanId]!
    if (epsilon === undefined || mean.op !== "ReduceMean" || !private_(meanId, shifted.id)) continue
    const { axes, keepdims } = mean.attrs as { axes: ReadonlyArray<number>; keepdims: boolean }
    const rank = normed.shape.length
    if (!keepdims || axes.length !== 1 || (axes[0] !== -1 && axes[0] !== rank - 1)) continue
    const squared = nodes[mean.inputs[0]!]!
    if (squared.op !== "Mul" || squared.inputs[0] !== x || squared.inputs[1] !== x || !private_(squared.id, meanId)) continue
    if (nodes[x]!.dtype !== "float32" || nodes[x]!.shape.length !== rank) continue
    return { x, epsilon, absorbed: [rootId, shifted.id, meanId, squared.id] }
  }
  return undefined
}
