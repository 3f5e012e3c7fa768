/**
 * Dead-code elimination: drops nodes no output depends on and renumbers the rest
 * densely (keeping order, so topological order holds). Inputs and parameters are
 * always kept, because they are the program's calling convention.
 */
import type { Node, NodeId, Program } from "../ir.ts"

/** Removes nodes that do not contribute to any output. */
export const eliminateDeadCode = (program: Program): Program => {
  const live = new Uint8Array(program.nodes.length)
  for (const o of program.outputs) live[o.id] = 1
  for (const v of [...program.inputs, ...program.parameters]) live[v.id] = 1
  for (let id = program.nodes.length - 1; id >= 0; id--) if (live[id]) for (const i of program.nodes[id]!.inputs) live[i] = 1
  const remap = new Int32Array(program.nodes.length).fill(-1)
  const nodes: Array<Node> = []
  for (const n of program.nodes) {
    if (!live[n.id]) continue
    remap[n.id] = nodes.length
    nodes.push({ ...n, id: nodes.length, inputs: n.inputs.map((i) => remap[i]!) } as Node)
  }
  const re = (id: NodeId) => remap[id]!
  return {
    nodes,
    inputs: program.inputs.map((v) => ({ ...v, id: re(v.id) })),
    parameters: program.parameters.map((v) => ({ ...v, id: re(v.id) })),
    outputs: program.outputs.map((v) => ({ ...v, id: re(v.id) }))
  }
}
