/**
 * A lowering turns one IR node into ONNX nodes whose final output is named
 * `ctx.name(node.id)`. One file per op family, like tfjs kernel files.
 */
import type { NodeOf, OpName } from "@refine-af/tensor"
import type { LoweringContext } from "../context.ts"

/** Lowers one IR op. */
export type Lowering<K extends OpName> = (node: NodeOf<K>, ctx: LoweringContext) => void

/** Lowerings for a family of ops. */
export type Lowerings = { readonly [K in OpName]?: Lowering<K> }

/** A lowering that maps an op 1:1 onto the ONNX op of the same name (no attributes). */
export const same =
  <K extends OpName>(onnxOp: string = ""): Lowering<K> =>
  (node, ctx) =>
    ctx.emit(onnxOp === "" ? node.op : onnxOp, ctx.inputs(node), [ctx.name(node.id)])
