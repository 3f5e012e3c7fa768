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

/** A tensor of the image side: a matrix ~ N(0, 1/fan_in), or (no `input`) a norm weight around 1. */
const imageTensor = (name: string, out: number, input?: number): PlannedTensor =>
  input === undefined ? { name, shape: [out], std: 0.1, mean: 1 } : { name, shape: [out, input], std: 1 / Math.sqrt(input) }

/** gemma3's SigLIP vision tower (`vision_config`, biases everywhere) and its projector onto the text width. */
const siglipTower = (vision: Readonly<Record<string, unknown>>, textWidth: number): Array<PlannedTensor> => {
  const width = numberField(vision, "hidden_size")
  const inner = numberField(vision, "intermediate_size")
  const patch = numberField(vision, "patch_size")
  const tower = "model.vision_tower.vision_model"
  const plan: Array<PlannedTensor> = [
    { name: `${tower}.embeddings.patch_embedding.weight`, shape: [width, numberField(vision, "num_channels", 3), patch, patch], std: 0.02 },
    { name: `${tower}.embeddings.patch_embedding.bias`, shape: [width], std: 0.02 },
    { name: `${tower}.embeddings.position_embedding.weight`, shape: [(numberField(vision, "image_size") / patch) ** 2, width], std: 0.02 }
  ]
  const withBias = (name: string, out: number, input?: number) => plan.push(imageTensor(`${name}.weight`, out, input), { name: `${name}.bias`, shape: [out], std: 0.02 })
  for (let layer = 0; layer < numberField(vision, "num_hidden_layers"); layer++) {
    const prefix = `${tower}.encoder.layers.${layer}`
    withBias(`${prefix}.layer_norm1`, width)
    for (const projection of ["k_proj", "v_proj", "q_proj", "out_proj"]) withBias(`${prefix}.self_attn.${projection}`, width, width)
    withBias(`${prefix}.layer_norm2`, width)
    withBias(`${prefix}.mlp.fc1`, inner, width)
    withBias(`${prefix}.mlp.fc2`, width, inner)
  }
  withBias(`${tower}.post_layernorm`, width)
  plan.push(
    { name: "model.multi_modal_projector.mm_input_projection_weight", shape: [width, textWidth], std: 1 / Math.sqrt(width) },
    { name: "model.multi_modal_projector.mm_soft_emb_norm.weight", shape: [width], std: 0.1 }
  )
  return plan
}

/** mistral3's Pixtral vision tower (`vision_config`, no biases) and its projector: a norm, the patch merger, two linears onto the text width. */
const pixtralTower = (config: Readonly<Record<string, unknown>>, vision: Readonly<Record<string, unknown>>, textWidth: number): Array<PlannedTensor> => {
  const width = numberField(vision, "hidden_size")
  const inner = numberField(vision, "intermediate_size")
  const patch = numberField(vision, "patch_size")
  const plan: Array<PlannedTensor> = [
    { name: "model.vision_tower.patch_conv.weight", shape: [width, numberField(vision, "num_channels", 3), patch, patch], std: 0.02 },
    imageTensor("model.vision_tower.ln_pre.weight", width)
  ]
  for (let layer = 0; layer < numberField(vision, "num_hidden_layers"); layer++) {
    const prefix = `model.vision_tower.transformer.layers.${layer}`
    plan.push(imageTensor(`${prefix}.attention_norm.weight`, width))
    for (const projection of ["k_proj", "v_proj", "q_proj", "o_proj"]) plan.push(imageTensor(`${prefix}.attention.${projection}.weight`, width, width))
    plan.push(imageTensor(`${prefix}.ffn_norm.weight`, width))
    for (const projection of ["gate_proj", "up_proj"]) plan.push(imageTensor(`${prefix}.feed_forward.${projection}.weight`, inner, width))
    plan.push(imageTensor(`${prefix}.feed_forward.down_proj.weight`, width, inner))
  }
  const merge = numberField(config, "spatial_merge_size", 2)
  const projector = "model.multi_modal_projector"
  plan.push(
    imageTensor(`${projector}.norm.weight`, width),
    imageTensor(`${projector}.patch_merger.merging_layer.weight`, width, width * merge * merge),
    imageTensor(`${projector}.linear_1.weight`, textWidth, width),
    imageTensor(`${projector}.linear_2.weight`, textWidth, textWidth)
  )
  if (config.multimodal_projector_bias === true) plan.push({ name: `${projector}.linear_1.bias`, shape: [textWidth], std: 0.02 }, { name: `${projector}.linear_2.bias`, shape: [textWidth], std: 0.02 })
  return plan
}

/** The text model type of each multimodal wrapper the tiny writer knows. */
const TEXT_MODEL_TYPES: Readonly<Record<string, string>> = { gemma3: "gemma3_text", mistral3: "mistral" }

/**
 * A multimodal model (transformers ≥ 4.52 names): the text decoder's tensors under `model.language_model.`,
 * drawn as the text model's (so a tiny gemma3 and gemma3_text of one seed share their decoder, as do
 * mistral3 and mistral), then the vision tower and projector of `vision_config`.
 */
const multimodalPlan = (config: Readonly<Record<string, unknown>>): Array<PlannedTensor> => {
  const text = config.text_config
  const vision = config.vision_config
  if (typeof text !== "object" || text === null || typeof vision !== "object" || vision === null) throw new Error(`tiny ${String(config.model_type)} config needs "text_config" and "vision_config" objects`)
  const textConfig = { ...(text as Record<string, unknown>), model_type: TEXT_MODEL_TYPES[String(config.model_type)] }
  const decoder = tinyTensorPlan(textConfig).map((tensor) => ({ ...tensor, name: multimodalTensorName(tensor.name), drawnAs: tensor.name }))
  const textWidth = numberField(textConfig, "hidden_size")
  const tower = config.model_type === "gemma3" ? siglipTower(vision as Record<string, unknown>, textWidth) : pixtralTower(config, vision as Record<string, unknown>, textWidth)
  return [...decoder, ...tower]
}

/** The HF tensor names, shapes and init distributions for a config (throws on a missing numeric field). */
export const tinyTensorPlan = (config: Readonly<Record<string, unknown>>): Array<PlannedTensor> => {
  if (Object.hasOwn(TEXT_MODEL_TYPES, String(config.model_type))) return multimodalPlan(config)
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
