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

/**
 * log-softmax as max-shifted ONNX ops (ReduceMax, Sub, Exp, ReduceSum, Log, Sub), for a provider with no
 * LogSoftmax kernel: onnxruntime 1.30's WebGPU provider has none and places the node on the CPU, so every
 * training and scoring step copied its [batch, length, vocab] logits to the host and back (profiled on lavapipe).
 */
export const emitLogSoftmaxDecomposed = (node: NodeOf<"LogSoftmax">, ctx: LoweringContext): void => {
  const [x] = ctx.inputs(node)
  const axes = ctx.int64s("axes", [node.attrs.axis])
  const top = ctx.temp("logSoftmaxMax")
  const shifted = ctx.temp("logSoftmaxShifted")
  const exps = ctx.temp("logSoftmaxExp")
  const total = ctx.temp("logSoftmaxSum")
  const logTotal = ctx.temp("logSoftmaxLogSum")
  ctx.emit("ReduceMax", [x!, axes], [top], [{ name: "keepdims", int: 1 }])
  ctx.emit("Sub", [x!, top], [shifted])
  ctx.emit("Exp", [shifted], [exps])
  ctx.emit("ReduceSum", [exps, axes], [total], [{ name: "keepdims", int: 1 }])
  ctx.emit("Log", [total], [logTotal])
  ctx.emit("Sub", [shifted, logTotal], [ctx.name(node.id)])
}

