/**
 * Re-runs the builder's simplifications over any program: common-subexpression
 * sharing, constant folding, peephole no-op removal, then dead-code elimination.
 * Useful for programs assembled outside a Graph (e.g. deserialised or edited).
 *
 * @example
 * ```ts
 * import { simplify, type Program } from "@refine-af/tensor"
 * const smaller = (p: Program) => simplify(p)
 * ```
 */
import { Graph, type Tensor } from "../graph.ts"
import type { Program } from "../ir.ts"
import { eliminateDeadCode } from "./dead-code.ts"

/** An equivalent program with shared subexpressions, folded constants and no dead nodes. */
export const simplify = (program: Program): Program => {
  const g = new Graph()
  const map = new Array<Tensor>(program.nodes.length)
  for (const n of program.nodes) {
    switch (n.op) {
      case "Input":
        map[n.id] = g.input(n.attrs.name, n.dtype, n.shape)
        break
      case "Parameter":
        map[n.id] = g.parameter(n.attrs.name, n.dtype, n.shape, { trainable: n.attrs.trainable })
        break
      case "Constant":
        map[n.id] = g.constant(n.attrs.value, n.dtype, n.shape)
        break
      default:
        map[n.id] = g.apply(n.op, n.inputs.map((i) => map[i]!), n.attrs as never)
    }
  }
  for (const o of program.outputs) g.output(o.name, map[o.id]!)
  return eliminateDeadCode(g.build())
}
