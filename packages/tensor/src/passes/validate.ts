/**
 * Structural check of a program built outside the Graph (deserialised, edited or
 * produced by another tool): dense ids, topological order, leaf bookkeeping, and
 * every node's recorded dtype/shape equal to what its op rule infers.
 *
 * @example
 * ```ts
 * import { validateProgram, type Program } from "@refine-af/tensor"
 * const problems = (p: Program) => validateProgram(p) // [] when well-formed
 * ```
 */
import type { Program } from "../ir.ts"
import { sizeOf } from "../ir.ts"
import { opDef } from "../ops/registry.ts"

/** Every problem found, one message each (empty when the program is well-formed). */
export const validateProgram = (program: Program): Array<string> => {
  const problems: Array<string> = []
  const n = program.nodes.length
  program.nodes.forEach((node, i) => {
    const where = `node ${i} (${node.op})`
    if (node.id !== i) problems.push(`${where}: id is ${node.id}; ids must equal the node's index`)
    for (const input of node.inputs) if (!(input >= 0 && input < i)) problems.push(`${where}: input ${input} is not an earlier node`)
    if (node.op === "Input" || node.op === "Parameter") return
    if (node.op === "Constant") {
      if (node.attrs.value.length !== sizeOf(node.shape)) problems.push(`${where}: ${node.attrs.value.length} values for shape [${node.shape.join(",")}]`)
      return
    }
    if (node.inputs.some((input) => !(input >= 0 && input < i))) return
    try {
      const inferred = opDef(node.op).infer(node.inputs.map((k) => program.nodes[k]!), node.attrs as never)
      const same = inferred.dtype === node.dtype && inferred.shape.length === node.shape.length && inferred.shape.every((d, k) => d === node.shape[k])
      if (!same) problems.push(`${where}: recorded ${node.dtype} [${node.shape.join(",")}] but the op infers ${inferred.dtype} [${inferred.shape.join(",")}]`)
    } catch (e) {
      problems.push(`${where}: ${e instanceof Error ? e.message : String(e)}`)
    }
  })
  const names = new Set<string>()
  for (const v of [...program.inputs, ...program.parameters]) {
    const node = program.nodes[v.id]
    if (names.has(v.name)) problems.push(`leaf name "${v.name}" is used twice`)
    names.add(v.name)
    if (node === undefined || (node.op !== "Input" && node.op !== "Parameter") || node.attrs.name !== v.name) problems.push(`"${v.name}" does not point at its leaf node`)
  }
  const outs = new Set<string>()
  for (const o of program.outputs) {
    if (outs.has(o.name)) problems.push(`output "${o.name}" is declared twice`)
    outs.add(o.name)
    if (!(o.id >= 0 && o.id < n)) problems.push(`output "${o.name}" points at missing node ${o.id}`)
  }
  return problems
}
