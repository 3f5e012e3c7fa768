/**
 * Which tensors a Llama-family Hugging Face checkpoint holds for a config,
 * with the distribution each is initialised from in a random tiny model.
 *
 * @example
 * ```ts
 * import { TINY_PRESETS, tinyTensorPlan } from "@refine-af/models"
 * tinyTensorPlan(TINY_PRESETS.qwen2).map((entry) => entry.name)
 * // ["model.embed_tokens.weight", "model.layers.0.input_layernorm.weight", ...]
 * ```
 */

import { isGemma, layerTensors, tiesWordEmbeddingsByDefault } from "../config/llama-config.ts"
import { multimodalTensorName } from "../llama/checkpoint-names.ts"

/** One tensor of the plan: its HF name, shape and normal init parameters. */
export interface PlannedTensor {
  readonly name: string
  readonly shape: ReadonlyArray<number>
  readonly std: number
  readonly mean?: number
  /** The name its random values are drawn by (default `name`): a multimodal model's decoder draws the text model's values. */
  readonly drawnAs?: string
}

/** A config field that must be a number; the thrown message names the field. */
const numberField = (config: Readonly<Record<string, unknown>>, key: string, fallback?: number): number => {
  const value = config[key] ?? fallback
  if (typeof value !== "number") throw new Error(`tiny model config needs a numeric "${key}"`)
  return value
}

/**
 * A multimodal Gemma 3 (transformers ≥ 4.52 names): the text decoder's tensors under `model.language_model.`,
 * drawn as the text model's (so a tiny gemma3 and gemma3_text of one seed share their decoder), a SigLIP
 * vision tower (`vision_config`) and the projector onto the text width.
 */
const gemma3Plan = (config: Readonly<Record<string, unknown>>): Array<PlannedTensor> => {
  const text = config.text_config
  const vision = config.vision_config
  if (typeof text !== "object" || text === null || typeof vision !== "object" || vision === null) throw new Error(`tiny gemma3 config needs "text_config" and "vision_config" objects`)
  const textConfig = { ...(text as Record<string, unknown>), model_type: "gemma3_text" }
  const visionConfig = vision as Record<string, unknown>
  const decoder = tinyTensorPlan(textConfig).map((tensor) => ({ ...tensor, name: multimodalTensorName(tensor.name), drawnAs: tensor.name }))
  const width = numberField(visionConfig, "hidden_size")
  const inner = numberField(visionConfig, "intermediate_size")
  const patch = numberField(visionConfig, "patch_size")
  const patches = (numberField(visionConfig, "image_size") / patch) ** 2
  const tower = "model.vision_tower.vision_model"
  const plan: Array<PlannedTensor> = [
    { name: `${tower}.embeddings.patch_embedding.weight`, shape: [width, numberField(visionConfig, "num_channels", 3), patch, patch], std: 0.02 },
    { name: `${tower}.embeddings.patch_embedding.bias`, shape: [width], std: 0.02 },
    { name: `${tower}.embeddings.position_embedding.weight`, shape: [patches, width], std: 0.02 }
  ]
  const pair = (name: string, out: number, input: number) => plan.push({ name: `${name}.weight`, shape: input === 0 ? [out] : [out, input], std: input === 0 ? 0.1 : 1 / Math.sqrt(input), mean: input === 0 ? 1 : 0 }, { name: `${name}.bias`, shape: [out], std: 0.02 })
  for (let layer = 0; layer < numberField(visionConfig, "num_hidden_layers"); layer++) {
    const prefix = `${tower}.encoder.layers.${layer}`
    pair(`${prefix}.layer_norm1`, width, 0)
    for (const projection of ["k_proj", "v_proj", "q_proj", "out_proj"]) pair(`${prefix}.self_attn.${projection}`, width, width)
    pair(`${prefix}.layer_norm2`, width, 0)
    pair(`${prefix}.mlp.fc1`, inner, width)
    pair(`${prefix}.mlp.fc2`, width, inner)
  }
  pair(`${tower}.post_layernorm`, width, 0)
  plan.push(
    { name: "model.multi_modal_projector.mm_input_projection_weight", shape: [width, numberField(textConfig, "hidden_size")], std: 1 / Math.sqrt(width) },
    { name: "model.multi_modal_projector.mm_soft_emb_norm.weight", shape: [width], std: 0.1 }
  )
  return [...decoder, ...plan]
}

/** The HF tensor names, shapes and init distributions for a config (throws on a missing numeric field). */
export const tinyTensorPlan = (config: Readonly<Record<string, unknown>>): Array<PlannedTensor> => {
  if (config.model_type === "gemma3") return gemma3Plan(config)
  const hidden = numberField(config, "hidden_size")
  const heads = numberField(config, "num_attention_heads")
  const kvHeads = numberField(config, "num_key_value_heads", heads)
  const gemma = isGemma(String(config.model_type))
  // The Gemmas' head size is its own field (default 256), not hidden_size / heads, as the config parser reads it.
  const headDim = numberField(config, "head_dim", gemma ? 256 : hidden / heads)
  if (!Number.isInteger(headDim)) throw new Error(`tiny model config: hidden_size ${hidden} / num_attention_heads ${heads} is not a whole head size; set "head_dim" or make hidden_size a multiple of num_attention_heads`)
  const inner = numberField(config, "intermediate_size")
  const vocab = numberField(config, "vocab_size")
  const { qkvBias, oBias, mlpBias, fusedProjections, qkNorm, postNorms, sandwichNorms } = layerTensors(String(config.model_type), { attentionBias: config.attention_bias === true, mlpBias: config.mlp_bias === true })
  // Weights ~ N(0, 1/fan_in) keep activations O(1); embeddings at 0.5 give logits
  // with a std of a few units, so greedy choices have clear margins. gemma3 multiplies
  // its embeddings by √hidden: they start at 0.5/√hidden so the residual stream is not
  // the token's embedding alone (which would make every prediction the input token).
  const plan: Array<PlannedTensor> = [{ name: "model.embed_tokens.weight", shape: [vocab, hidden], std: gemma ? 0.5 / Math.sqrt(hidden) : 0.5 }]
  const linear = (name: string, out: number, input: number, bias: boolean) => {
    plan.push({ name: `${name}.weight`, shape: [out, input], std: 1 / Math.sqrt(input) })
    if (bias) plan.push({ name: `${name}.bias`, shape: [out], std: 0.1 })
  }
  // Norm weights scattered around a scale of 1 so a missing norm weight shows in the logits: around 1, or around 0
  // where the norm scales by (1 + weight) (gemma3), which also shows a norm that forgets the 1.
  const normMean = gemma ? 0 : 1
  const norm = (name: string, width: number) => plan.push({ name, shape: [width], std: 0.1, mean: normMean })
  for (let layer = 0; layer < numberField(config, "num_hidden_layers"); layer++) {
    const prefix = `model.layers.${layer}`
    if (!postNorms || sandwichNorms) norm(`${prefix}.input_layernorm.weight`, hidden)
    if (fusedProjections) linear(`${prefix}.self_attn.qkv_proj`, (heads + 2 * kvHeads) * headDim, hidden, qkvBias)
    else {
      linear(`${prefix}.self_attn.q_proj`, heads * headDim, hidden, qkvBias)
      linear(`${prefix}.self_attn.k_proj`, kvHeads * headDim, hidden, qkvBias)
      linear(`${prefix}.self_attn.v_proj`, kvHeads * headDim, hidden, qkvBias)
    }
    if (qkNorm !== false) {
      norm(`${prefix}.self_attn.q_norm.weight`, qkNorm === "head" ? headDim : heads * headDim)
      norm(`${prefix}.self_attn.k_norm.weight`, qkNorm === "head" ? headDim : kvHeads * headDim)
    }
    linear(`${prefix}.self_attn.o_proj`, hidden, heads * headDim, oBias)
    norm(`${prefix}.post_attention_layernorm.weight`, hidden)
    if (sandwichNorms) norm(`${prefix}.pre_feedforward_layernorm.weight`, hidden)
    if (postNorms) norm(`${prefix}.post_feedforward_layernorm.weight`, hidden)
    if (fusedProjections) linear(`${prefix}.mlp.gate_up_proj`, 2 * inner, hidden, mlpBias)
    else {
      linear(`${prefix}.mlp.gate_proj`, inner, hidden, mlpBias)
      linear(`${prefix}.mlp.up_proj`, inner, hidden, mlpBias)
    }
    linear(`${prefix}.mlp.down_proj`, hidden, inner, mlpBias)
  }
  norm("model.norm.weight", hidden)
  if ((config.tie_word_embeddings ?? tiesWordEmbeddingsByDefault(String(config.model_type))) !== true) plan.push({ name: "lm_head.weight", shape: [vocab, hidden], std: 0.5 })
  return plan
}
