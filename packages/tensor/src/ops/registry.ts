/**
 * The op registry: op name → definition. Leaves (Input, Parameter, Constant)
 * have no definition; the graph and interpreter handle them.
 */
import { ShapeError } from "../errors.ts"
import type { OpName } from "../ir.ts"
import { binaryOps } from "./elementwise-binary.ts"
import { unaryOps } from "./elementwise-unary.ts"
import { indexingOps } from "./indexing.ts"
import { layoutOps } from "./layout.ts"
import { matmulOps } from "./matmul.ts"
import { reduceOps } from "./reduce.ts"
import type { OpDef, OpDefs } from "./types.ts"
import { windowOps } from "./window.ts"

const all: OpDefs = { ...binaryOps, ...unaryOps, ...matmulOps, ...reduceOps, ...layoutOps, ...windowOps, ...indexingOps }

/** The definition of `op` (throws for leaves, which have none). */
export const opDef = <K extends OpName>(op: K): OpDef<K> => {
  const def = all[op] as OpDef<K> | undefined
  if (def === undefined) throw new ShapeError({ op, message: `${op}: is a leaf or unknown op and cannot be applied; use Graph.input/parameter/constant` })
  return def
}
