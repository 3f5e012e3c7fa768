/**
 * Reverse-mode automatic differentiation over the IR.
 *
 * `gradients` appends the backward pass to a Graph (so optimizers can consume the
 * gradient tensors in the same program); `grad` is the Program → Program form.
 * Only nodes on a path from a `wrt` leaf to the loss get cotangents, and each VJP
 * is asked only for the input gradients that are needed.
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
import { add, cast } from "./api.ts"
import { GradientError } from "./errors.ts"
import { Graph, type Tensor } from "./graph.ts"
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

  const cotangent = new Map<number, Tensor>()
  cotangent.set(loss.id, seed ?? g.constant(1, loss.dtype, loss.shape))
  for (let id = loss.id; id >= 0; id--) {
    const dy = cotangent.get(id)
    if (dy === undefined || !relevant(id)) continue
    const node = g.node(id)
    if (node.inputs.length === 0) continue
    const rule = vjpRule(node.op)
    const needs = node.inputs.map((i) => relevant(i))
    if (!needs.some(Boolean)) continue
    if (rule === undefined) throw new GradientError({ message: `${node.op} (node ${id}) has no gradient but lies between the loss and a wrt tensor; stop the gradient before it` })
    const inputs = node.inputs.map((i) => g.tensor(i))
    const grads = rule({ inputs, output: g.tensor(id), attrs: node.attrs as never, dy, needs })
    node.inputs.forEach((i, k) => {
      const gi = grads[k]
      if (gi === undefined || !needs[k]) return
      const prev = cotangent.get(i)
      cotangent.set(i, prev === undefined ? gi : add(prev, gi))
    })
  }
  return wrt.map((t) => {
    const got = cotangent.get(t.id)
    return got === undefined ? g.constant(0, t.dtype, t.shape) : cast(got, t.dtype)
  })
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
