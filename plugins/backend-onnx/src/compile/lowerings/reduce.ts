/** Reductions and the normalising ops (softmax family). Opset 18 takes reduce axes as an input. */
import type { NodeOf } from "@refine-af/tensor"
import type { LoweringContext } from "../context.ts"
import type { Lowerings } from "./types.ts"

const reduce =
  (onnxOp: string) =>
  (node: NodeOf<"ReduceSum" | "ReduceMean" | "ReduceMax">, ctx: LoweringContext): void =>
    ctx.emit(onnxOp, [...ctx.inputs(node), ctx.int64s("axes", node.attrs.axes)], [ctx.name(node.id)], [
      { name: "keepdims", int: node.attrs.keepdims ? 1 : 0 }
    ])

export const reduceLowerings: Lowerings = {
  ReduceSum: reduce("ReduceSum"),
  ReduceMean: reduce("ReduceMean"),
  ReduceMax: reduce("ReduceMax"),
  Softmax: (node, ctx) =>
    ctx.emit("Softmax", ctx.inputs(node), [ctx.name(node.id)], [{ name: "axis", int: node.attrs.axis }]),
  LogSoftmax: (node, ctx) =>
    ctx.emit("LogSoftmax", ctx.inputs(node), [ctx.name(node.id)], [{ name: "axis", int: node.attrs.axis }])
}
