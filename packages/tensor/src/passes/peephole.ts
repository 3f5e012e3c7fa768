/**
 * Algebraic peephole rules applied while building: they return an existing tensor
 * when an op would be an exact no-op (x·1, x+0, x−0, x/1, −(−x), transpose of a
 * transpose), and turn data-preserving layout ops into cheaper ones (a transpose
 * that only moves size-1 axes is a reshape; a reshape of a reshape reshapes the
 * first input). Only rewrites that keep the output dtype and shape and the values
 * (up to the sign of a zero: −0 + 0 is +0).
 */
import type { DType, Node, NodeId, OpAttributes, OpName, Shape } from "../ir.ts"

/** The handle of a built node, as peephole sees it. */
export interface PeepholeTensor {
  readonly id: NodeId
  readonly dtype: DType
  readonly shape: Shape
}

/**
 * The narrow view of the builder a peephole rule needs: read a node, get a
 * handle for a node id, apply an op. `Graph` is one (the rules never import it).
 */
export interface PeepholeBuilder<T extends PeepholeTensor> {
  node(t: T | NodeId): Node
  tensor(id: NodeId): T
  apply<K extends OpName>(op: K, inputs: ReadonlyArray<T>, attrs: OpAttributes[K]): T
}

const isConstantAll = <T extends PeepholeTensor>(g: PeepholeBuilder<T>, t: T, value: number): boolean => {
  const n = g.node(t)
  return n.op === "Constant" && n.attrs.value.length <= 16 && n.attrs.value.every((v) => v === value)
}

const sameType = (a: PeepholeTensor, b: { readonly dtype: string; readonly shape: ReadonlyArray<number> }) =>
  a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])

/** Whether `perm` keeps the order of the axes longer than 1 (it then only moves axes of size 1). */
const movesOnlyUnitAxes = (shape: Shape, perm: ReadonlyArray<number>): boolean => {
  const moved = perm.filter((axis) => shape[axis] !== 1)
  return moved.every((axis, i) => i === 0 || axis > moved[i - 1]!)
}

/** A tensor equal to `op(inputs)` that already exists, or undefined. */
export const peephole = <K extends OpName, T extends PeepholeTensor>(
  g: PeepholeBuilder<T>,
  op: K,
  inputs: ReadonlyArray<T>,
  attrs: OpAttributes[K],
  out: { readonly dtype: string; readonly shape: ReadonlyArray<number> }
): T | undefined => {
  const [a, b] = inputs
  const keep = (t: T | undefined) => (t !== undefined && sameType(t, out) ? t : undefined)
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
      const perm = (attrs as OpAttributes["Transpose"]).perm
      if (n.op === "Transpose") {
        const composed = perm.map((p) => n.attrs.perm[p]!)
        return composed.every((p, i) => p === i) ? keep(g.tensor(n.inputs[0]!)) : g.apply("Transpose", [g.tensor(n.inputs[0]!)], { perm: composed })
      }
      // Moving only axes of size 1 keeps every element where it is: a reshape (a view; a transpose is a copy).
      // Weights keep their transposes: backends recognise a transposed parameter as a weight read.
      if (n.op !== "Parameter" && movesOnlyUnitAxes(a!.shape, perm)) return g.apply("Reshape", [a!], { shape: out.shape })
      return undefined
    }
    case "Reshape": {
      // A reshape of a reshape reads the first one's input (the data order never changes).
      const n = g.node(a!)
      if (n.op !== "Reshape" || g.node(n.inputs[0]!).op === "Parameter") return undefined
      return g.apply("Reshape", [g.tensor(n.inputs[0]!)], attrs as OpAttributes["Reshape"])
    }
    default:
      return undefined
  }
}
