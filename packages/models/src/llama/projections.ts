/**
 * The linear projections of a Llama-family decoder layer, by their Hugging
 * Face module names — what LoRA may target and where each one lives.
 *
 * @example
 * ```ts
 * import { LLAMA_PROJECTIONS, projectionModule } from "@refine-af/models"
 * projectionModule(3, "gate_proj") // "model.layers.3.mlp.gate_proj"
 * LLAMA_PROJECTIONS.length // 7
 * ```
 */

/** The projection names of a decoder layer (also the LoRA target names PEFT uses). */
export const LLAMA_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const

/** One projection of a decoder layer. */
export type LlamaProjection = (typeof LLAMA_PROJECTIONS)[number]

/** The HF module path of a projection: `model.layers.<layer>.self_attn.<name>` or `.mlp.<name>`. */
export const projectionModule = (layer: number, projection: LlamaProjection): string => {
  const block = projection === "gate_proj" || projection === "up_proj" || projection === "down_proj" ? "mlp" : "self_attn"
  return `model.layers.${layer}.${block}.${projection}`
}
