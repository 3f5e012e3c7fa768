/**
 * Elementwise ops: binary with numpy broadcasting, unary, and the few IR ops
 * ONNX opset 18 lacks as one node (Rsqrt, Silu, Gelu) expressed in standard ops.
 */
import type { DType } from "@refine-af/tensor"
import type { LoweringContext } from "../context.ts"
import { onnxTypeCode } from "../dtypes.ts"
import type { Lowerings } from "./types.ts"
import { same } from "./types.ts"

/** `x * s` for a scalar constant `s` of x's dtype. */
const scale = (ctx: LoweringContext, x: string, dtype: DType, s: number, hint: string): string => {
  const out = ctx.temp(hint)
  ctx.emit("Mul", [x, ctx.scalar(hint, dtype, s)], [out])
  return out
}

export const elementwiseLowerings: Lowerings = {
  Add: same(),
  Sub: same(),
  Mul: same(),
  Div: same(),
  Pow: same(),
  Min: same(),
  Max: same(),
  Equal: same(),
  Less: same(),
  LessOrEqual: same(),
  Greater: same(),
  GreaterOrEqual: same(),
  And: same(),
  Or: same(),
  Where: same(),
  Neg: same(),
  Abs: same(),
  Sign: same(),
  Sqrt: same(),
  Reciprocal: same(),
  Exp: same(),
  Log: same(),
  Tanh: same(),
  Sigmoid: same(),
  Relu: same(),
  Erf: same(),
  Cos: same(),
  Sin: same(),
  Not: same(),
  Identity: same(),
  Rsqrt: (node, ctx) => {
    const root = ctx.temp("sqrt")
    ctx.emit("Sqrt", ctx.inputs(node), [root])
    ctx.emit("Reciprocal", [root], [ctx.name(node.id)])
  },
  Silu: (node, ctx) => {
    const [x] = ctx.inputs(node)
    const gate = ctx.temp("sigmoid")
    ctx.emit("Sigmoid", [x!], [gate])
    ctx.emit("Mul", [x!, gate], [ctx.name(node.id)])
  },
  Gelu: (node, ctx) => {
    // Written in standard ops (ONNX Gelu is opset 20); onnxruntime fuses this pattern back into one kernel.
    const [x] = ctx.inputs(node)
    const inner = ctx.temp("gelu")
    if (node.attrs.approximate === "none") {
      ctx.emit("Erf", [scale(ctx, x!, node.dtype, Math.SQRT1_2, "gelu_scale")], [inner])
    } else {
      const square = ctx.temp("gelu_sq")
      const cube = ctx.temp("gelu_cube")
      ctx.emit("Mul", [x!, x!], [square])
      ctx.emit("Mul", [square, x!], [cube])
      const poly = ctx.temp("gelu_poly")
      ctx.emit("Add", [x!, scale(ctx, cube, node.dtype, 0.044715, "gelu_c")], [poly])
      ctx.emit("Tanh", [scale(ctx, poly, node.dtype, Math.sqrt(2 / Math.PI), "gelu_k")], [inner])
    }
    const onePlus = ctx.temp("gelu_1p")
    ctx.emit("Add", [inner, ctx.scalar("one", node.dtype, 1)], [onePlus])
    const half = scale(ctx, x!, node.dtype, 0.5, "gelu_half")
    ctx.emit("Mul", [half, onePlus], [ctx.name(node.id)])
  },
  Cast: (node, ctx) =>
    ctx.emit("Cast", ctx.inputs(node), [ctx.name(node.id)], [{ name: "to", int: onnxTypeCode(node.attrs.to) }]),
  Clip: (node, ctx) => {
    const [x] = ctx.inputs(node)
    const { min, max } = node.attrs
    const lo = min === undefined ? "" : ctx.scalar("clip_min", node.dtype, min)
    const hi = max === undefined ? "" : ctx.scalar("clip_max", node.dtype, max)
    ctx.emit("Clip", [x!, lo, hi], [ctx.name(node.id)])
  }
}
