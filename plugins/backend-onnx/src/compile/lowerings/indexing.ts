/** Linear algebra and indexing ops: all 1:1 with ONNX. */
import type { Lowerings } from "./types.ts"
import { same } from "./types.ts"

export const indexingLowerings: Lowerings = {
  MatMul: same(),
  Gather: (node, ctx) =>
    ctx.emit("Gather", ctx.inputs(node), [ctx.name(node.id)], [{ name: "axis", int: node.attrs.axis }]),
  GatherElements: (node, ctx) =>
    ctx.emit("GatherElements", ctx.inputs(node), [ctx.name(node.id)], [{ name: "axis", int: node.attrs.axis }]),
  ScatterElements: (node, ctx) =>
    ctx.emit("ScatterElements", ctx.inputs(node), [ctx.name(node.id)], [
      { name: "axis", int: node.attrs.axis },
      { name: "reduction", string: node.attrs.reduction }
    ])
}
