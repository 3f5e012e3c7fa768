/**
 * The linear projections of a Llama-family decoder layer, by their Hugging
 * Face module names — what LoRA may target and where each one lives. Most
 * families keep q, k, v, gate and up apart; phi3 stores q/k/v as one
 * `qkv_proj` and gate/up as one `gate_up_proj` ({@link LlamaConfig.fusedProjections}).
 *
 * @example
 * ```ts
 * import { LLAMA_PROJECTIONS, projectionModule } from "@refine-af/models"
 * projectionModule(3, "gate_proj") // "model.layers.3.mlp.gate_proj"
 * LLAMA_PROJECTIONS.length // 9
 * ```
 */
import type { LlamaConfig } from "../config/llama-config.ts"

/** Every projection name of any supported layer (also the LoRA target names PEFT uses). */
export const LLAMA_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "qkv_proj", "gate_up_proj"] as const

/** One projection of a decoder layer. */
export type LlamaProjection = (typeof LLAMA_PROJECTIONS)[number]

const SEPARATE: ReadonlyArray<LlamaProjection> = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
const FUSED: ReadonlyArray<LlamaProjection> = ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]

/** The projections a layer of this config has, in module order. */
export const projectionsOf = (config: Pick<LlamaConfig, "fusedProjections">): ReadonlyArray<LlamaProjection> => (config.fusedProjections ? FUSED : SEPARATE)

/** The HF module path of a projection: `model.layers.<layer>.self_attn.<name>` or `.mlp.<name>`. */
export const projectionModule = (layer: number, projection: LlamaProjection): string => {
  const block = projection === "gate_proj" || projection === "up_proj" || projection === "down_proj" || projection === "gate_up_proj" ? "mlp" : "self_attn"
  return `model.layers.${layer}.${block}.${projection}`
}

/** [out, in] of a projection in a model of this config. */
export const projectionShape = (config: LlamaConfig, target: LlamaProjection): readonly [number, number] => {
  const attention = config.numHeads * config.headDim
  const keyValue = config.numKeyValueHeads * config.headDim
  switch (target) {
    case "q_proj":
      return [attention, config.hiddenSize]
    case "k_proj":
    case "v_proj":
      return [keyValue, config.hiddenSize]
    case "qkv_proj":
      return [attention + 2 * keyValue, config.hiddenSize]
    case "o_proj":
      return [config.hiddenSize, attention]
    case "gate_proj":
    case "up_proj":
      return [config.intermediateSize, config.hiddenSize]
    case "gate_up_proj":
      return [2 * config.intermediateSize, config.hiddenSize]
    case "down_proj":
      return [config.hiddenSize, config.intermediateSize]
  }
}
