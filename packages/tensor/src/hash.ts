/**
 * A stable content hash of a program, for compiled-session caches: equal programs
 * (same nodes, attributes, constants, names) hash equally across processes.
 */
import { createHash } from "node:crypto"
import type { Program } from "./ir.ts"

/**
 * SHA-256 (hex) of the program's structure and constant bytes.
 *
 * @example
 * ```ts
 * import { Graph, exp, programHash } from "@refine-af/tensor"
 * const g = new Graph()
 * g.output("y", exp(g.input("x", "float32", [2])))
 * const key = programHash(g.build())
 * ```
 */
export const programHash = (program: Program): string => {
  const h = createHash("sha256")
  // One string for the structure (one hash update per node is measurably slower), constants' bytes after it.
  const lines: Array<string> = []
  for (const n of program.nodes) {
    const attrs = n.op === "Constant" ? `${n.attrs.value.length}` : stableJson(n.attrs)
    lines.push(`${n.id}|${n.op}|${n.dtype}|${n.shape.join("x")}|${n.inputs.join(",")}|${attrs}`)
  }
  const named = (kind: string, list: ReadonlyArray<{ name: string; id: number }>) => {
    for (const v of list) lines.push(`${kind}|${JSON.stringify(v.name)}|${v.id}`)
  }
  named("in", program.inputs)
  named("param", program.parameters.map((p) => ({ name: `${p.name}|${p.trainable}`, id: p.id })))
  named("out", program.outputs)
  h.update(lines.join("\n"))
  for (const n of program.nodes) {
    if (n.op !== "Constant") continue
    const v = n.attrs.value
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
  }
  return h.digest("hex")
}

const stableJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "undefined"
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`
  let empty = true
  for (const _ in value) {
    empty = false
    break
  }
  if (empty) return "{}"
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`
}
