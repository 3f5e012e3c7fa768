/**
 * Shape ops. The IR keeps shapes, axes, pads and slice bounds as static
 * attributes; ONNX wants most of them as int64 tensor inputs, so they become
 * small initializers here.
 */
import type { Lowerings } from "./types.ts"

export const shapeLowerings: Lowerings = {
  Reshape: (node, ctx) =>
    ctx.emit("Reshape", [...ctx.inputs(node), ctx.int64s("shape", node.shape)], [ctx.name(node.id)]),
  Transpose: (node, ctx) =>
    ctx.emit("Transpose", ctx.inputs(node), [ctx.name(node.id)], [{ name: "perm", ints: node.attrs.perm }]),
  Slice: (node, ctx) => {
    const { starts, ends, axes, steps } = node.attrs
    ctx.emit(
      "Slice",
      [...ctx.inputs(node), ctx.int64s("starts", starts), ctx.int64s("ends", ends), ctx.int64s("axes", axes), ctx.int64s("steps", steps)],
      [ctx.name(node.id)]
    )
  },
  Concat: (node, ctx) =>
    ctx.emit("Concat", ctx.inputs(node), [ctx.name(node.id)], [{ name: "axis", int: node.attrs.axis }]),
  Expand: (node, ctx) =>
    ctx.emit("Expand", [...ctx.inputs(node), ctx.int64s("shape", node.attrs.shape)], [ctx.name(node.id)]),
  Squeeze: (node, ctx) =>
    ctx.emit("Squeeze", [...ctx.inputs(node), ctx.int64s("axes", node.attrs.axes)], [ctx.name(node.id)]),
  Unsqueeze: (node, ctx) =>
    ctx.emit("Unsqueeze", [...ctx.inputs(node), ctx.int64s("axes", node.attrs.axes)], [ctx.name(node.id)]),
  Pad: (node, ctx) =>
    ctx.emit("Pad", [...ctx.inputs(node), ctx.int64s("pads", node.attrs.pads)], [ctx.name(node.id)], [{ name: "mode", string: "constant" }]),
  Trilu: (node, ctx) =>
    ctx.emit("Trilu", [...ctx.inputs(node), ctx.scalar("k", "int64", node.attrs.k)], [ctx.name(node.id)], [
      { name: "upper", int: node.attrs.upper ? 1 : 0 }
    ])
}
