/**
 * SwiGLU MLP and the Llama decoder layer (pre-norm attention + pre-norm MLP,
 * residuals), with HF parameter names.
 *
 * @example
 * ```ts
 * import { Graph, decoderLayerParams, decoderLayer, rotaryTables } from "@refine-af/tensor"
 * const g = new Graph()
 * const config = { hidden: 16, numHeads: 4, numKvHeads: 2, headDim: 4, intermediate: 32, rmsNormEps: 1e-5 }
 * const x = g.input("x", "float32", [1, 3, 16])
 * const rope = rotaryTables(g.input("positions", "int64", [1, 3]), 4, 10000, "float32")
 * g.output("y", decoderLayer(x, decoderLayerParams(g, "model.layers.0", config, { dtype: "float32" }), config, rope))
 * ```
 */
import { add, mul, silu } from "../api.ts"
import type { Graph, Tensor } from "../graph.ts"
import { attention, attentionParams, type AttentionConfig, type AttentionParams, type RotaryTables } from "./attention.ts"
import { applyLinear, linearParams, type LinearOptions, type LinearParams } from "./linear.ts"
import { rmsNorm } from "./norm.ts"

/** SwiGLU projections. */
export interface SwiGluParams {
  readonly gate: LinearParams
  readonly up: LinearParams
  readonly down: LinearParams
}

/** Declares `${prefix}.gate_proj`, `.up_proj`, `.down_proj`. */
export const swiGluParams = (g: Graph, prefix: string, hidden: number, intermediate: number, options: LinearOptions): SwiGluParams => ({
  gate: linearParams(g, `${prefix}.gate_proj`, hidden, intermediate, { ...options, bias: false }),
  up: linearParams(g, `${prefix}.up_proj`, hidden, intermediate, { ...options, bias: false }),
  down: linearParams(g, `${prefix}.down_proj`, intermediate, hidden, { ...options, bias: false })
})

/** down(silu(gate(x)) · up(x)). */
export const swiGlu = (x: Tensor, p: SwiGluParams): Tensor => applyLinear(mul(silu(applyLinear(x, p.gate)), applyLinear(x, p.up)), p.down)

/** Decoder layer geometry. */
export interface DecoderLayerConfig extends AttentionConfig {
  readonly intermediate: number
  readonly rmsNormEps: number
}

/** Parameters of one decoder layer. */
export interface DecoderLayerParams {
  readonly inputNorm: Tensor
  readonly attention: AttentionParams
  readonly postAttentionNorm: Tensor
  readonly mlp: SwiGluParams
}

/** Declares a layer's parameters under `prefix` (norm weights train unless base weights are frozen). */
export const decoderLayerParams = (g: Graph, prefix: string, c: DecoderLayerConfig, options: LinearOptions): DecoderLayerParams => {
  const trainable = options.trainable ?? options.lora === undefined
  return {
    inputNorm: g.parameter(`${prefix}.input_layernorm.weight`, options.dtype, [c.hidden], { trainable }),
    attention: attentionParams(g, `${prefix}.self_attn`, c, options),
    postAttentionNorm: g.parameter(`${prefix}.post_attention_layernorm.weight`, options.dtype, [c.hidden], { trainable }),
    mlp: swiGluParams(g, `${prefix}.mlp`, c.hidden, c.intermediate, options)
  }
}

/** h = x + attn(norm(x)); out = h + mlp(norm(h)). */
export const decoderLayer = (x: Tensor, p: DecoderLayerParams, c: DecoderLayerConfig, rope: RotaryTables, keyMask?: Tensor): Tensor => {
  const h = add(x, attention(rmsNorm(x, p.inputNorm, c.rmsNormEps), p.attention, c, rope, keyMask))
  return add(h, swiGlu(rmsNorm(h, p.postAttentionNorm, c.rmsNormEps), p.mlp))
}
