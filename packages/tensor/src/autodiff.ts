/**
 * Reverse-mode automatic differentiation over the IR.
 *
 * `gradients` appends the backward pass to a Graph (so optimizers can consume the
 * gradient tensors in the same program); `grad` is the Program → Program form.
 * Only nodes on a path from a `wrt` leaf to the loss get cotangents, and each VJP
 * is asked only for the input gradients that are needed.
 *
 * Segments recorded with `Graph.checkpoint` are recomputed: when the backward
 * sweep first reaches a node of a segment, the segment's computed nodes are
 * rebuilt from its inputs, and the VJPs of the segment read
 * the rebuilt values, so no backward node holds on to the forward's values
 * inside the segment. Two data dependencies ({@link after}) order the work
 * for a backend that schedules by data dependencies alone: the rebuilt inputs
 * wait for the cotangent that reached the segment (no recomputation runs
 * early), and the cotangent that leaves through the segment's inputs waits for
 * the gradients the segment sent elsewhere (its parameters'), so those are
 * computed while the rebuilt values are alive, and the values die before the
 * next segment is rebuilt.
 *
 * @example
 * ```ts
 * import { Graph, grad, matmul, sum } from "@refine-af/tensor"
 * const g = new Graph()
 * const x = g.input("x", "float32", [2, 3])
 * const w = g.parameter("w", "float32", [3, 1])
 * g.output("loss", sum(matmul(x, w)))
 * const withGrads = grad(g.build(), "loss", ["w"]) // outputs: loss, grad/w
 * ```
 */
import { add, cast, mul, reshape, slice } from "./api.ts"
import { GradientError } from "./errors.ts"
import { Graph, Tensor, type CheckpointSegment } from "./graph.ts"
import type { Program } from "./ir.ts"
import { isFloat } from "./ir.ts"
import { eliminateDeadCode } from "./passes/dead-code.ts"
import { vjpRule } from "./gradients/registry.ts"

/**
 * Gradients of scalar `loss` with respect to each of `wrt`, built into the loss's graph.
 * `seed` (default 1) is the cotangent of the loss. A `wrt` tensor the loss does not
 * depend on gets a zero gradient.
 */
export const gradients = (loss: Tensor, wrt: ReadonlyArray<Tensor>, seed?: Tensor): Array<Tensor> => {
  const g = loss.graph
  if (loss.size !== 1 && seed === undefined) throw new GradientError({ message: `loss must have one element, got shape [${loss.shape.join(",")}]; reduce it (sum/mean) first or pass a seed` })
  if (!isFloat(loss.dtype)) throw new GradientError({ message: `loss must be a float tensor, got ${loss.dtype}` })
  for (const t of wrt) {
    if (t.graph !== g) throw new GradientError({ message: "a wrt tensor belongs to another Graph than the loss" })
    if (!isFloat(t.dtype)) throw new GradientError({ message: `cannot differentiate with respect to a ${t.dtype} tensor (node ${t.id}); only float tensors have gradients` })
  }

  // Forward reachability from wrt, restricted to nodes that reach the loss.
  const n = loss.id + 1
  const fromWrt = new Uint8Array(n)
  for (const t of wrt) if (t.id < n) fromWrt[t.id] = 1
  for (let id = 0; id < n; id++) {
    if (fromWrt[id]) continue
    const node = g.node(id)
    const detached = node.op === "Identity" && node.attrs.stopGradient === true
    if (!detached && isFloat(node.dtype) && node.inputs.some((i) => fromWrt[i])) fromWrt[id] = 1
  }
  const toLoss = new Uint8Array(n)
  toLoss[loss.id] = 1
  for (let id = n - 1; id >= 0; id--) if (toLoss[id] && fromWrt[id]) for (const i of g.node(id).inputs) toLoss[i] = 1
  const relevant = (id: number) => fromWrt[id] === 1 && toLoss[id] === 1

  const segments = g.checkpointSegments().filter((s) => s.first <= loss.id)
  const segmentOf = new Int32Array(n).fill(-1)
  segments.forEach((s, k) => {
    // The loss itself and what it reads are needed by the forward anyway: a segment ends before it.
    for (let id = s.first; id < Math.min(s.end, loss.id); id++) segmentOf[id] = k
  })
  const rebuilt = new Map<number, Map<number, Tensor>>()
  const valueOf = (id: number, segment: number): Tensor => (segment < 0 ? undefined : rebuilt.get(segment)?.get(id)) ?? g.tensor(id)

  const cotangent = new Map<number, Tensor>()
  cotangent.set(loss.id, seed ?? g.constant(1, loss.dtype, loss.shape))
  // Cotangents a segment's VJPs sent to what is not rebuilt in it (its parameters, weights-only values before it).
  const sideTargets = new Map<number, Set<number>>()
  let open = -1
  const close = (k: number) => {
    const s = segments[k]!
    const tokens = [...(sideTargets.get(k) ?? [])].map((i) => cotangent.get(i)!)
    for (const i of s.inputs) {
      const dx = cotangent.get(i)
      if (dx !== undefined && tokens.length > 0) cotangent.set(i, after(dx, tokens))
    }
  }
  for (let id = loss.id; id >= 0; id--) {
    if (open >= 0 && id < segments[open]!.first) {
      close(open)
      open = -1
    }
    const dy = cotangent.get(id)
    if (dy === undefined || !relevant(id)) continue
    const node = g.node(id)
    if (node.inputs.length === 0) continue
    const rule = vjpRule(node.op)
    const needs = node.inputs.map((i) => relevant(i))
    if (!needs.some(Boolean)) continue
    if (rule === undefined) throw new GradientError({ message: `${node.op} (node ${id}) has no gradient but lies between the loss and a wrt tensor; stop the gradient before it` })
    const segment = segmentOf[id]!
    if (segment >= 0 && !rebuilt.has(segment)) {
      open = segment
      rebuilt.set(segment, recompute(g, segments[segment]!, dy))
    }
    const inputs = node.inputs.map((i) => valueOf(i, segment))
    const grads = rule({ inputs, output: valueOf(id, segment), attrs: node.attrs as never, dy, needs })
    node.inputs.forEach((i, k) => {
      const gi = grads[k]
      if (gi === undefined || !needs[k]) return
      const prev = cotangent.get(i)
      cotangent.set(i, prev === undefined ? gi : add(prev, gi))
      if (segment >= 0 && isSide(g, segments[segment]!, i)) {
        const set = sideTargets.get(segment) ?? new Set<number>()
        set.add(i)
        sideTargets.set(segment, set)
      }
    })
  }
  if (open >= 0) close(open)
  return wrt.map((t) => {
    const got = cotangent.get(t.id)
    return got === undefined ? g.constant(0, t.dtype, t.shape) : cast(got, t.dtype)
  })
}

/**
 * Whether a cotangent sent to node `i` by a VJP of `segment` leaves the
 * segment sideways: to a leaf (a parameter declared inside it or before), or
 * to a node before it that is not one of its activation inputs.
 */
const isSide = (g: Graph, segment: CheckpointSegment, i: number): boolean =>
  g.node(i).inputs.length === 0 || (i < segment.first && !segment.inputs.includes(i))

/**
 * Every computed node of the segment, rebuilt (by node id): from its
 * activation inputs after `token`, and from the same leaves and outside
 * values as the forward. Weights-only nodes (a transposed or dequantised
 * weight, a mask derived from an input) are rebuilt too, as new nodes:
 * shared with the forward, each would stay alive from the forward pass to
 * the backward pass, which at a layer's weights is most of what
 * checkpointing saves.
 */
const recompute = (g: Graph, segment: CheckpointSegment, token: Tensor): Map<number, Tensor> => {
  const map = new Map<number, Tensor>()
  for (const i of segment.inputs) map.set(i, after(g.tensor(i), token))
  for (let id = segment.first; id < segment.end; id++) {
    const node = g.node(id)
    if (node.inputs.length === 0) continue
    map.set(id, g.applyUnshared(node.op, node.inputs.map((i) => map.get(i) ?? g.tensor(i)), node.attrs as never))
  }
  return map
}

/**
 * `x`, with a data dependency on each of `tokens`: x + 0, where the 0 is
 * computed from each token's first element (through bool, so NaN or ±Inf in
 * it still give 0). The builder cannot fold it (the zero is not a constant),
 * so the result is a new node that exists only once every token does.
 */
export const after = (x: Tensor, tokens: Tensor | ReadonlyArray<Tensor>): Tensor => {
  const list: ReadonlyArray<Tensor> = tokens instanceof Tensor ? [tokens] : tokens
  if (list.length === 0) return x
  const zero = list
    .map((t) => mul(cast(cast(slice(reshape(t, [t.size]), [{ axis: 0, end: 1 }]), "bool"), x.dtype), 0))
    .reduce((a, b) => add(a, b))
  return add(x, reshape(zero, []))
}

/** Output name under which {@link grad} exposes the gradient of parameter `name`. */
export const gradName = (name: string): string => `grad/${name}`

/**
 * Program → Program: keeps output `loss` and adds `grad/<name>` for each parameter
 * or input named in `wrt` (default: every trainable parameter). Other outputs are
 * dropped; dead nodes are removed.
 */
export const grad = (program: Program, loss: string, wrt?: ReadonlyArray<string>): Program => {
  const lossOut = program.outputs.find((o) => o.name === loss)
  if (lossOut === undefined) throw new GradientError({ message: `no output named "${loss}"; outputs are ${program.outputs.map((o) => o.name).join(", ")}` })
  const leaves = new Map([...program.inputs, ...program.parameters].map((v) => [v.name, v.id]))
  const names = wrt ?? program.parameters.filter((p) => p.trainable).map((p) => p.name)
  const g = Graph.fromProgram({ ...program, outputs: [] })
  const targets = names.map((name) => {
    const id = leaves.get(name)
    if (id === undefined) throw new GradientError({ message: `"${name}" is not an input or parameter of the program` })
    return g.tensor(id)
  })
  const lossTensor = g.tensor(lossOut.id)
  const gs = gradients(lossTensor, targets)
  g.output(loss, lossTensor)
  names.forEach((name, i) => g.output(gradName(name), gs[i]!))
  return eliminateDeadCode(g.build())
}
