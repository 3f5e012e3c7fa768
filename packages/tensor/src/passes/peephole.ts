/**
 * Algebraic peephole rules applied while building: they return an existing tensor
 * when an op would be an exact no-op (x·1, x+0, x−0, x/1, −(−x), transpose of a
 * transpose). Only rewrites that keep the output dtype and shape and the values
 * (up to the sign of a zero: −0 + 0 is +0).
 */
import type { Graph, Tensor } from "../graph.ts"
import type { OpAttributes, OpName } from "../ir.ts"

const isConstantAll = (g: Graph, t: Tensor, value: number): boolean => {
  const n = g.node(t)
  return n.op === "Constant" && n.attrs.value.length <= 16 && n.attrs.value.every((v) => v === value)
}

const sameType = (a: Tensor, b: { readonly dtype: string; readonly shape: ReadonlyArray<number> }) =>
  a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])

/** A tensor equal to `op(inputs)` that already exists, or undefined. */
export const peephole = <K extends OpName>(
  g: Graph,
  op: K,
  inputs: ReadonlyArray<Tensor>,
  attrs: OpAttributes[K],
  out: { readonly dtype: string; readonly shape: ReadonlyArray<number> }
): Tensor | undefined => {
  const [a, b] = inputs
  const keep = (t: Tensor | undefined) => (t !== undefined && sameType(t, out) ? t : undefined)
  switch (op) {
    case "Mul":
      if (isConstantAll(g, b!, 1)) return keep(a)
      if (isConstantAll(g, a!, 1)) return keep(b)
      return undefined
    case "Add":
      if (isConstantAll(g, b!, 0)) return keep(a)
      if (isConstantAll(g, a!, 0)) return keep(b)
      return undefined
    case "Sub":
      return isConstantAll(g, b!, 0) ? keep(a) : undefined
    case "Div":
      return isConstantAll(g, b!, 1) ? keep(a) : undefined
    case "Neg": {
      const n = g.node(a!)
      return n.op === "Neg" ? keep(g.tensor(n.inputs[0]!)) : undefined
    }
    case "Transpose": {
      const n = g.node(a!)
      if (n.op !== "Transpose") return undefined
      const perm = (attrs as OpAttributes["Transpose"]).perm
      const composed = perm.map((p) => n.attrs.perm[p]!)
      return composed.every((p, i) => p === i) ? keep(g.tensor(n.inputs[0]!)) : g.apply("Transpose", [g.tensor(n.inputs[0]!)], { perm: composed })
    }
    default:
      return undefined
  }
}
