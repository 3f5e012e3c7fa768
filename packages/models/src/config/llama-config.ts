/**
 * `config.json` of Llama-family models (model_type llama / mistral / qwen2 /
 * qwen3 / olmo2 / olmo3 / smollm3 / granite / gemma2 / gemma3_text / phi3), normalised into
 * one {@link LlamaConfig} that the forward pass reads. The per-architecture
 * differences (qkv bias of qwen2, q/k RMSNorm of qwen3, olmo2 and gemma3,
 * olmo2's and olmo3's norms after attention and MLP instead of before, the Gemmas' norms
 * before and after both, their (1 + weight) norms, GELU MLP and soft-capped
 * scores, gemma3's second rotary table for its sliding layers, smollm3's
 * layers without rotary, granite's four scalar multipliers, phi3's fused
 * q/k/v and gate/up projections and partly rotating heads, the sliding
 * windows of mistral, phi3, the qwen families, smollm3 and the Gemmas) become fields
 * here so the model code has no architecture switches. Both
 * config layouts are read: transformers 4's `rope_theta` / `rope_scaling`, and
 * transformers 5's `rope_parameters` (theta inside) and `layer_types`. A multimodal
 * model (`gemma3`, `mistral3`) is read as its text decoder: `text_config` over the text
 * model's defaults (`multimodal-config.ts`, {@link LlamaConfig.multimodal}).
 */
import { Effect } from "effect"
import { totalmem } from "node:os"
import { InvalidConfigError, UnsupportedArchitectureError } from "./errors.ts"
import { FieldReader, isJsonObject } from "./fields.ts"
import type { RopeScaling } from "./rope.ts"
import { GEMMA3_TEXT_DEFAULTS, isMultimodalModelType, MULTIMODAL_MODEL_TYPES, multimodalTextConfig, type MultimodalModelType } from "./multimodal-config.ts"
import { gemmaRopes, parseRope } from "./rope-config.ts"

/** Bytes per weight of the narrowest precision a Llama model can be held in: int4, block-wise, one float32 scale per 32 weights. */
export const NARROWEST_BYTES_PER_WEIGHT = 0.625

/** The `model_type` values this plugin implements. */
export const SUPPORTED_ARCHITECTURES = ["llama", "mistral", "qwen2", "qwen3", "olmo2", "olmo3", "smollm3", "granite", "gemma2", "gemma3_text", "phi3"] as const

export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number]

/** Every `config.json` `model_type` this plugin loads: the architectures and the multimodal wrappers of one. */
export const SUPPORTED_MODEL_TYPES: ReadonlyArray<string> = [...SUPPORTED_ARCHITECTURES, ...MULTIMODAL_MODEL_TYPES]

/** gemma2 and gemma3_text: (1 + weight) norms around both branches, a GELU MLP, scaled embeddings and queries, soft caps. */
export const isGemma = (architecture: string): boolean => architecture === "gemma2" || architecture === "gemma3_text"

/** Why some model types people try are refused: named in the error, so the user learns what to pick instead. */
const UNSUPPORTED_HINTS: Readonly<Record<string, string>> = {
  gemma: "Gemma 1: Gemma 2 (gemma2) and Gemma 3 (gemma3_text, and the text part of the multimodal gemma3) are supported",
  gemma3n: "Gemma 3n's decoder (per-layer embeddings, AltUp, LAuReL) is not implemented: Gemma 3 (gemma3_text, gemma3) is supported",
  llava: "a LLaVA model: the multimodal models whose text decoder runs here are gemma3 and mistral3",
  mllama: "Llama 3.2 Vision (cross-attention layers): its text-only siblings Llama 3.1 / 3.2 (llama) are supported",
  qwen2_vl: "Qwen2-VL: the text-only Qwen2 / Qwen2.5 models (qwen2) are supported",
  qwen2_5_vl: "Qwen2.5-VL: the text-only Qwen2.5 models (qwen2) are supported",
  qwen3_vl: "Qwen3-VL: the text-only Qwen3 models (qwen3) are supported",
  paligemma: "PaliGemma: Gemma 2 (gemma2) and Gemma 3 (gemma3_text, gemma3) are supported",
  phi: "Phi-1 / Phi-2: Phi-3, Phi-3.5 and Phi-4 (phi3) are supported",
  phimoe: "a mixture of experts: only dense models are supported (Phi-3 / Phi-3.5-mini / Phi-4: phi3)",
  phi3small: "Phi-3-small's block-sparse attention (remote code) is not implemented: Phi-3-mini / medium, Phi-3.5-mini and Phi-4(-mini) (phi3) are supported",
  phi4_multimodal: "a multimodal Phi-4: its text-only sibling Phi-4-mini (phi3) is supported",
  phi4mm: "a multimodal Phi-4: its text-only sibling Phi-4-mini (phi3) is supported",
  mixtral: "a mixture of experts: only dense models are supported",
  qwen2_moe: "a mixture of experts: only dense models are supported (Qwen2 / Qwen2.5 dense: qwen2)",
  qwen3_moe: "a mixture of experts: only dense models are supported (Qwen3 dense: qwen3)",
  granitemoe: "a mixture of experts: only dense models are supported (Granite 3 dense: granite)",
  olmoe: "a mixture of experts: only dense models are supported",
  llama4: "Llama 4 is a mixture of experts: only dense models are supported (Llama 2 / 3.x: llama)",
  gpt_neox: "GPT-NeoX runs here as a reward model or classifier (reward-model/hf), not as a policy",
  t5: "T5 runs here as a UniEval scorer (unieval/dialog), not as a policy"
}

/** A validated, architecture-neutral decoder configuration. */
export interface LlamaConfig {
  readonly architecture: Architecture
  readonly vocabSize: number
  readonly hiddenSize: number
  readonly intermediateSize: number
  readonly numLayers: number
  readonly numHeads: number
  readonly numKeyValueHeads: number
  readonly headDim: number
  readonly rmsNormEps: number
  readonly ropeTheta: number
  readonly ropeScaling: RopeScaling
  readonly maxPositionEmbeddings: number
  readonly tieWordEmbeddings: boolean
  /** Bias on q/k/v projections (qwen2 always; llama, qwen3, the OLMos, smollm3, granite and the Gemmas with `attention_bias`). */
  readonly qkvBias: boolean
  /** Bias on the output projection (llama, qwen3, the OLMos, smollm3, granite and the Gemmas with `attention_bias`). */
  readonly oBias: boolean
  /**
   * RMSNorm of q and k before rotary (`self_attn.q_norm` / `k_norm`): over each head
   * (qwen3 and gemma3, weight [headDim]) or over the whole projection (the OLMos, weight [heads × headDim]).
   */
  readonly qkNorm: false | "head" | "projection"
  /**
   * Norms after attention and after the MLP, inside the residual branch
   * (olmo2: `post_attention_layernorm`, `post_feedforward_layernorm`, no
   * `input_layernorm`), instead of before them.
   */
  readonly postNorms: boolean
  /**
   * Norms before and after each branch (the Gemmas): `input_layernorm` before attention,
   * `post_attention_layernorm` on its output, `pre_feedforward_layernorm` before the
   * MLP, `post_feedforward_layernorm` on its output. Implies {@link postNorms}.
   */
  readonly sandwichNorms: boolean
  /** What every RMSNorm multiplies by: weight + this (the Gemmas' norms scale by 1 + weight; 0 for the others). */
  readonly normWeightOffset: number
  /** The MLP's gate activation (`hidden_act`, the Gemmas' `hidden_activation`): SiLU (SwiGLU), exact GELU or its tanh approximation. */
  readonly activation: "silu" | "gelu" | "gelu_tanh"
  /**
   * gemma3's second rotary table, for its sliding-window layers (`rope_local_base_freq`,
   * or transformers 5's `rope_parameters.sliding_attention`); null where every layer
   * rotates with `ropeTheta` / `ropeScaling`.
   */
  readonly localRope: { readonly theta: number; readonly scaling: RopeScaling } | null
  /** Attention scores soft-capped to (−c, c) as c·tanh(s / c) before the mask (the Gemmas' `attn_logit_softcapping`), or null. */
  readonly attentionSoftcap: number | null
  /** Logits soft-capped the same way (the Gemmas' `final_logit_softcapping`), or null. */
  readonly logitSoftcap: number | null
  /** Layers that attend without rotary embeddings ("NoPE": smollm3's `no_rope_layers` entries of 0); empty for the others. */
  readonly nopeLayers: ReadonlyArray<number>
  /**
   * granite's scalars (GraniteConfig): embeddings × `embedding`, attention scores × `attention`
   * (in place of 1/√headDim), each branch × `residual` before it joins the residual stream,
   * logits ÷ `logits`. The Gemmas have two of them: embeddings × √hidden_size and scores ×
   * query_pre_attn_scalar^-½ (residual and logits 1). Null for the others.
   */
  readonly multipliers: { readonly embedding: number; readonly attention: number; readonly residual: number; readonly logits: number } | null
  /** Bias on gate/up/down (llama, smollm3 and granite with `mlp_bias`). */
  readonly mlpBias: boolean
  /**
   * phi3: q, k and v are one projection (`self_attn.qkv_proj`, rows q then k then v) and the
   * MLP's gate and up one more (`mlp.gate_up_proj`, gate rows first), as the checkpoint stores
   * them, so LoRA adapts the fused modules as PEFT does.
   */
  readonly fusedProjections: boolean
  /** The share of each head that rotates (phi3's `partial_rotary_factor`: Phi-4-mini 0.75); the rest passes through. 1 for the others. */
  readonly partialRotaryFactor: number
  /** Per layer: attend only to the last `w` positions (w includes the current one), or null for full causal attention. */
  readonly slidingWindowPerLayer: ReadonlyArray<number | null>
  readonly bosTokenId: number | null
  readonly eosTokenIds: ReadonlyArray<number>
  readonly padTokenId: number | null
  /**
   * The multimodal model this text decoder is part of, or null: gemma3 and mistral3 keep the
   * decoder's weights as `model.language_model.*` (`language_model.model.*` before transformers
   * 4.52) beside a vision tower, which is not read; adapters and merged folders name them the same
   * way (`checkpoint-names.ts`).
   */
  readonly multimodal: MultimodalModelType | null
}

/** transformers 5's per-layer attention kinds (`layer_types`), or undefined when the config has none. */
const layerTypes = (json: Record<string, unknown>, fields: FieldReader, numLayers: number): Array<"full_attention" | "sliding_attention"> | undefined => {
  const raw = json.layer_types
  if (raw === undefined || raw === null) return undefined
  if (!Array.isArray(raw) || raw.length !== numLayers || !raw.every((t) => t === "full_attention" || t === "sliding_attention")) {
    fields.problems.push(`"layer_types" is ${JSON.stringify(raw)}, expected ${numLayers} entries (num_hidden_layers), each "full_attention" or "sliding_attention"`)
    return undefined
  }
  return raw as Array<"full_attention" | "sliding_attention">
}

/** The sliding window of each layer, following each architecture's rules (transformers' MistralConfig, Qwen2Config, Qwen3Config, SmolLM3Config, Gemma2Config, Gemma3TextConfig, Olmo3Config). */
const slidingWindows = (architecture: Architecture, json: Record<string, unknown>, fields: FieldReader, numLayers: number, nope: ReadonlySet<number>, maxPositionEmbeddings: number): Array<number | null> => {
  // The Gemmas and olmo3 always slide (their configs' window defaults to 4096), by a layer pattern where there are no `layer_types`.
  const patterned = isGemma(architecture) || architecture === "olmo3"
  const window = patterned ? fields.positiveInt("sliding_window", 4096) : fields.has("sliding_window") ? fields.positiveInt("sliding_window") : null
  const kinds = layerTypes(json, fields, numLayers)
  const none = Array.from({ length: numLayers }, () => null)
  if (architecture === "llama" || window === null) return none
  // gemma3: the layers `layer_types` marks, or without it (transformers 4.50's configs) all but every
  // `sliding_window_pattern`-th layer (default 6: five sliding layers, then a full one).
  // gemma2: the even layers (Gemma2DecoderLayer), where there are no `layer_types`; olmo3: three of every four.
  if (patterned) {
    if (kinds !== undefined) return kinds.map((kind) => (kind === "sliding_attention" ? window : null))
    const pattern = architecture === "gemma2" ? 2 : architecture === "olmo3" ? 4 : fields.positiveInt("sliding_window_pattern", 6)
    return Array.from({ length: numLayers }, (_, layer) => ((layer + 1) % pattern === 0 ? null : window))
  }
  // mistral and phi3 (Phi3Config): every layer slides where the config has a window. Phi-3.5-mini's and
  // Phi-4-mini's (262144) are longer than any sequence they take (131072 positions): no window at all then,
  // the same attention without a second mask to build and apply.
  if (architecture === "phi3" && window >= maxPositionEmbeddings) return none
  if (architecture === "mistral" || architecture === "phi3") return Array.from({ length: numLayers }, () => window)
  // smollm3: the layers `layer_types` marks, or without it its NoPE layers (SmolLM3Config), when use_sliding_window.
  if (architecture === "smollm3") {
    if (!fields.bool("use_sliding_window", false)) return none
    return kinds !== undefined ? kinds.map((kind) => (kind === "sliding_attention" ? window : null)) : Array.from({ length: numLayers }, (_, layer) => (nope.has(layer) ? window : null))
  }
  // qwen2 / qwen3: off unless use_sliding_window; then the layers `layer_types` marks as sliding,
  // or without it (transformers 4's configs) the layers from max_window_layers up.
  if (!fields.bool("use_sliding_window", false)) return none
  if (kinds !== undefined) return kinds.map((kind) => (kind === "sliding_attention" ? window : null))
  const firstWindowLayer = typeof json.max_window_layers === "number" ? json.max_window_layers : numLayers
  return Array.from({ length: numLayers }, (_, layer) => (layer >= firstWindowLayer ? window : null))
}

/**
 * smollm3's layers without rotary: `no_rope_layers` (1 = rotary, 0 = none; at least one entry per
 * layer), or without it every `no_rope_layer_interval`-th layer (default 4: layers 3, 7, …).
 */
const nopeLayers = (architecture: Architecture, json: Record<string, unknown>, fields: FieldReader, numLayers: number): Array<number> => {
  if (architecture !== "smollm3") return []
  const listed = json.no_rope_layers
  if (listed === undefined || listed === null) {
    const interval = fields.positiveInt("no_rope_layer_interval", 4)
    return Array.from({ length: numLayers }, (_, layer) => layer).filter((layer) => (layer + 1) % interval === 0)
  }
  if (!Array.isArray(listed) || listed.length < numLayers || !listed.every((flag) => flag === 0 || flag === 1)) {
    fields.problems.push(`"no_rope_layers" is ${JSON.stringify(listed)}, expected at least ${numLayers} entries (num_hidden_layers), each 1 (rotary) or 0 (none)`)
    return []
  }
  return Array.from({ length: numLayers }, (_, layer) => layer).filter((layer) => listed[layer] === 0)
}

/** Whether the LM head is the embedding where a config omits `tie_word_embeddings`: transformers' default (SmolLM3Config and the Gemmas' tie, the others do not). */
export const tiesWordEmbeddingsByDefault = (modelType: string): boolean => modelType === "smollm3" || isGemma(modelType)

/** rope_theta where a config omits it: transformers' default per architecture (SmolLM3Config's is 2e6, Gemma3TextConfig's 1e6). */
const defaultRopeTheta = (architecture: Architecture): number => (architecture === "smollm3" ? 2_000_000 : architecture === "gemma3_text" ? 1_000_000 : 10000)

/** The MLP activations this plugin implements, by the names `hidden_act` / `hidden_activation` give them (transformers' ACT2FN). */
const ACTIVATIONS: Readonly<Record<string, LlamaConfig["activation"]>> = { silu: "silu", swish: "silu", gelu: "gelu", gelu_pytorch_tanh: "gelu_tanh", gelu_new: "gelu_tanh" }

/** The MLP activation: the Gemmas name it `hidden_activation` (default the tanh GELU), the others `hidden_act` (default SiLU). */
const parseActivation = (architecture: Architecture, json: Record<string, unknown>, fields: FieldReader): LlamaConfig["activation"] => {
  const key = isGemma(architecture) ? "hidden_activation" : "hidden_act"
  const name = json[key] ?? (isGemma(architecture) ? "gelu_pytorch_tanh" : "silu")
  const activation = typeof name === "string" ? ACTIVATIONS[name] : undefined
  if (activation === undefined) fields.problems.push(`"${key}" is ${JSON.stringify(name)}; supported: ${Object.keys(ACTIVATIONS).join(", ")}`)
  return activation ?? "silu"
}

/**
 * The rotating share of each head: phi3's `partial_rotary_factor` (transformers 4: top level;
 * transformers 5: inside `rope_parameters`), rotating int(head_dim × factor) dimensions, an even
 * number. Other architectures rotate whole heads (their attention has no pass-through part).
 */
const parsePartialRotary = (architecture: Architecture, json: Record<string, unknown>, fields: FieldReader, headDim: number): number => {
  const inRope = isJsonObject(json.rope_parameters) ? json.rope_parameters.partial_rotary_factor : undefined
  const raw = json.partial_rotary_factor ?? inRope ?? 1
  if (raw === 1) return 1
  if (architecture !== "phi3") {
    fields.problems.push(`"partial_rotary_factor" ${JSON.stringify(raw)} is not supported for ${architecture} (only 1; phi3 rotates part of each head)`)
    return 1
  }
  const rotary = typeof raw === "number" ? Math.floor(headDim * raw) : NaN
  if (!(typeof raw === "number" && raw > 0 && raw <= 1) || rotary % 2 !== 0 || rotary === 0) {
    fields.problems.push(`"partial_rotary_factor" is ${JSON.stringify(raw)}, expected a number in (0, 1] that rotates an even, non-zero part of each ${headDim}-wide head`)
    return 1
  }
  return raw
}

/** How many dimensions of each head rotate: int(head_dim × partial_rotary_factor), the head size for all but some phi3 models. */
export const rotaryDim = (config: Pick<LlamaConfig, "headDim" | "partialRotaryFactor">): number => Math.floor(config.headDim * config.partialRotaryFactor)

/** A soft cap: null when absent or null, else a positive number; `fallback` is the architecture's default (gemma2: 50 and 30). */
const parseSoftcap = (fields: FieldReader, json: Record<string, unknown>, key: string, fallback: number | null): number | null =>
  json[key] === null || (json[key] === undefined && fallback === null) ? null : fields.positiveNumber(key, fallback ?? undefined)

/**
 * Which optional tensors a layer of this architecture holds (transformers'
 * modelling code: qwen2's q/k/v always carry a bias; llama's, qwen3's,
 * olmo2's, smollm3's and granite's attention projections follow
 * `attention_bias`, llama's, smollm3's and granite's MLP `mlp_bias`; qwen3
 * and gemma3 normalise each head of q and k, the OLMos the whole q and k
 * projections; the OLMos normalise after attention and MLP, the Gemmas before
 * and after both). Shared by the config parser and
 * the tiny-model writer, so the tensors written are the tensors read.
 *
 * @example
 * ```ts
 * import { layerTensors } from "@refine-af/models"
 * layerTensors("qwen3", { attentionBias: false, mlpBias: false }) // { qkvBias: false, oBias: false, mlpBias: false, fusedProjections: false, qkNorm: "head", postNorms: false, sandwichNorms: false }
 * ```
 */
export const layerTensors = (modelType: string, flags: { readonly attentionBias: boolean; readonly mlpBias: boolean }) => {
  const biasedAttention = ["llama", "qwen3", "olmo2", "olmo3", "smollm3", "granite", "gemma2", "gemma3_text"].includes(modelType) && flags.attentionBias
  return {
    qkvBias: modelType === "qwen2" || biasedAttention,
    oBias: biasedAttention,
    mlpBias: (modelType === "llama" || modelType === "smollm3" || modelType === "granite") && flags.mlpBias,
    fusedProjections: modelType === "phi3",
    qkNorm: modelType === "qwen3" || modelType === "gemma3_text" ? "head" as const : modelType === "olmo2" || modelType === "olmo3" ? "projection" as const : false as const,
    postNorms: modelType === "olmo2" || modelType === "olmo3" || isGemma(modelType),
    sandwichNorms: isGemma(modelType)
  }
}

/**
 * The fields `LlamaConfig` gained after model ids were first issued (sessions 32 to 35),
 * with the value every earlier model has. A model's id leaves a field out while it
 * holds this value (`configDescription`), so adding a field does not change the id
 * of an existing model, nor orphan its cached stage outputs and weight caches.
 */
export const FIELDS_ADDED_LATER: Readonly<Partial<LlamaConfig>> = {
  qkNorm: false,
  postNorms: false,
  nopeLayers: [],
  multipliers: null,
  sandwichNorms: false,
  normWeightOffset: 0,
  activation: "silu",
  localRope: null,
  attentionSoftcap: null,
  logitSoftcap: null,
  fusedProjections: false,
  partialRotaryFactor: 1,
  multimodal: null
}

/**
 * Validates a parsed `config.json`. All field problems are reported together.
 *
 * @example
 * ```ts
 * import { parseLlamaConfig } from "@refine-af/models"
 * const config = parseLlamaConfig("config.json", { model_type: "llama", vocab_size: 32000, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4 })
 * ```
 */
export const parseLlamaConfig = (path: string, json: unknown): Effect.Effect<LlamaConfig, InvalidConfigError | UnsupportedArchitectureError> => {
  if (!isJsonObject(json)) {
    return Effect.fail(new InvalidConfigError({ path, problems: ["not a JSON object"], message: `${path} is not a JSON object; it is not a Hugging Face config.json.` }))
  }
  const modelType = json.model_type
  if (typeof modelType !== "string" || !SUPPORTED_MODEL_TYPES.includes(modelType)) {
    return Effect.fail(new UnsupportedArchitectureError({
      path,
      modelType: String(modelType),
      supported: [...SUPPORTED_MODEL_TYPES],
      message: `${path} has model_type ${JSON.stringify(modelType)}${typeof modelType === "string" && Object.hasOwn(UNSUPPORTED_HINTS, modelType) ? ` (${UNSUPPORTED_HINTS[modelType]})` : ""}; ` +
        `model-llama supports ${SUPPORTED_MODEL_TYPES.join(", ")}. Use a Llama-family checkpoint or another LanguageModel provider.`
    }))
  }
  if (!isMultimodalModelType(modelType)) return parseDecoderConfig(path, json, null)
  const text = multimodalTextConfig(modelType, json)
  return typeof text === "string"
    ? Effect.fail(new InvalidConfigError({ path, problems: [text], message: `${path} is not a valid ${modelType} config: ${text}. Fix it (see the model card) and retry.` }))
    : parseDecoderConfig(path, text, modelType)
}

/** A decoder's config (`multimodal`: the wrapper it was read from, whose `text_config` this is). */
const parseDecoderConfig = (path: string, given: Readonly<Record<string, unknown>>, multimodal: LlamaConfig["multimodal"]): Effect.Effect<LlamaConfig, InvalidConfigError> => {
  const architecture = given.model_type as Architecture
  const json = architecture === "gemma3_text" ? { ...GEMMA3_TEXT_DEFAULTS, ...given } : given
  const fields = new FieldReader(json)
  const hiddenSize = fields.positiveInt("hidden_size")
  const numHeads = fields.positiveInt("num_attention_heads")
  const numKeyValueHeads = fields.positiveInt("num_key_value_heads", numHeads)
  const numLayers = fields.positiveInt("num_hidden_layers")
  const gemma = isGemma(architecture)
  // The Gemmas' head size is its own field (default 256), not hidden_size / heads.
  const headDim = fields.positiveInt("head_dim", gemma ? 256 : Math.floor(hiddenSize / numHeads))
  const maxPositionEmbeddings = fields.positiveInt("max_position_embeddings", architecture === "gemma3_text" ? 131072 : architecture === "gemma2" ? 8192 : architecture === "phi3" ? 4096 : 2048)
  const vocabSize = fields.positiveInt("vocab_size")
  const intermediateSize = fields.positiveInt("intermediate_size")
  // Checked before anything is sized by these numbers: 1e9 layers once ran Node out of heap (exit 134).
  // Absurd means "not even at int4", the narrowest precision offered: a 7B config must parse on a
  // 24 GiB machine; the precision-aware memory checks judge the rest.
  const parameters = numLayers * (hiddenSize * headDim * (2 * numHeads + 2 * numKeyValueHeads) + 3 * hiddenSize * intermediateSize) + 2 * vocabSize * hiddenSize
  if (!(parameters * NARROWEST_BYTES_PER_WEIGHT <= totalmem())) {
    const problem = `the sizes (num_hidden_layers ${numLayers}, hidden_size ${hiddenSize}, intermediate_size ${intermediateSize}, vocab_size ${vocabSize}) ` +
      `imply ${parameters.toExponential(2)} parameters, ${(parameters * NARROWEST_BYTES_PER_WEIGHT / 2 ** 30).toFixed(1)} GiB even as int4, more than this machine's ${(totalmem() / 2 ** 30).toFixed(1)} GiB of memory`
    return Effect.fail(new InvalidConfigError({
      path,
      problems: [...fields.problems, problem],
      message: `${path} is not a usable ${architecture} config: ${problem}. Check these fields against the model card.`
    }))
  }
  const tensors = layerTensors(architecture, { attentionBias: fields.bool("attention_bias", false), mlpBias: fields.bool("mlp_bias", false) })
  const ropes = architecture === "gemma3_text" ? gemmaRopes(json, fields, maxPositionEmbeddings, defaultRopeTheta("gemma3_text")) : undefined
  const rope = ropes?.global ?? parseRope(json, fields, maxPositionEmbeddings, () => fields.positiveNumber("rope_theta", defaultRopeTheta(architecture)), architecture)
  const nope = nopeLayers(architecture, json, fields, numLayers)
  const activation = parseActivation(architecture, json, fields)
  if (architecture === "gemma3_text" && json.use_bidirectional_attention === true) {
    fields.problems.push(`"use_bidirectional_attention" true (an embedding model) is not supported: this is a causal decoder`)
  }
  if (numHeads % numKeyValueHeads !== 0) fields.problems.push(`num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads})`)
  // Without head_dim the head size is hidden_size / num_attention_heads (as transformers derives it), which must be whole.
  if (json.head_dim === undefined && !gemma && hiddenSize % numHeads !== 0) fields.problems.push(`hidden_size (${hiddenSize}) must be a multiple of num_attention_heads (${numHeads}) when there is no "head_dim" (the head size would be ${(hiddenSize / numHeads).toFixed(2)})`)
  if (headDim % 2 !== 0) fields.problems.push(`head_dim (${headDim}) must be even for rotary embeddings`)
  const partialRotaryFactor = parsePartialRotary(architecture, json, fields, headDim)
  if (rope.scaling.type === "longrope") {
    const rotary = rotaryDim({ headDim, partialRotaryFactor })
    for (const [key, factors] of [["short_factor", rope.scaling.shortFactor], ["long_factor", rope.scaling.longFactor]] as const) {
      if (factors.length > 0 && factors.length !== rotary / 2) fields.problems.push(`rope scaling "${key}" has ${factors.length} entries; the rotary part of a head (${rotary}) needs ${rotary / 2}`)
    }
  }
  const config: LlamaConfig = {
    architecture,
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKeyValueHeads,
    headDim,
    // Olmo2Config's (and so Olmo3Config's) and Phi3Config's default is 1e-5, the others' 1e-6.
    rmsNormEps: fields.positiveNumber("rms_norm_eps", architecture === "olmo2" || architecture === "olmo3" || architecture === "phi3" ? 1e-5 : 1e-6),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    maxPositionEmbeddings,
    tieWordEmbeddings: fields.bool("tie_word_embeddings", tiesWordEmbeddingsByDefault(architecture)),
    ...tensors,
    normWeightOffset: gemma ? 1 : 0,
    partialRotaryFactor,
    activation,
    localRope: ropes?.local ?? null,
    // Gemma2Config caps by default (50, 30); Gemma3TextConfig's are null.
    attentionSoftcap: gemma ? parseSoftcap(fields, json, "attn_logit_softcapping", architecture === "gemma2" ? 50 : null) : null,
    logitSoftcap: gemma ? parseSoftcap(fields, json, "final_logit_softcapping", architecture === "gemma2" ? 30 : null) : null,
    slidingWindowPerLayer: slidingWindows(architecture, json, fields, numLayers, new Set(nope), maxPositionEmbeddings),
    nopeLayers: nope,
    multipliers: architecture === "granite"
      ? {
        embedding: fields.positiveNumber("embedding_multiplier", 1),
        attention: fields.positiveNumber("attention_multiplier", 1),
        residual: fields.positiveNumber("residual_multiplier", 1),
        logits: fields.positiveNumber("logits_scaling", 1)
      }
      : gemma
      ? {
        // The embedding scale is a float32 tensor (Gemma3TextScaledWordEmbedding; gemma2 casts √hidden to the
        // hidden state's dtype); attention scales by query_pre_attn_scalar^-1/2.
        embedding: Math.fround(Math.sqrt(hiddenSize)),
        attention: fields.positiveNumber("query_pre_attn_scalar", 256) ** -0.5,
        residual: 1,
        logits: 1
      }
      : null,
    bosTokenId: fields.tokenId("bos_token_id"),
    eosTokenIds: fields.tokenIds("eos_token_id"),
    padTokenId: fields.tokenId("pad_token_id"),
    multimodal
  }
  if (fields.problems.length > 0) {
    return Effect.fail(new InvalidConfigError({
      path,
      problems: fields.problems,
      message: `${path} is not a valid ${multimodal === null ? architecture : `${multimodal} config: its text_config, a ${architecture}`} config:\n  - ${fields.problems.join("\n  - ")}\nFix these fields (see the model card) and retry.`
    }))
  }
  return Effect.succeed(config)
}

/** Number of parameters of a model with this config (used for reports and benchmarks). */
export const parameterCount = (c: LlamaConfig): number => {
  const attention = c.hiddenSize * c.headDim * (2 * c.numHeads + 2 * c.numKeyValueHeads) +
    (c.qkvBias ? c.headDim * (c.numHeads + 2 * c.numKeyValueHeads) : 0) + (c.oBias ? c.hiddenSize : 0)
  const mlp = 3 * c.hiddenSize * c.intermediateSize + (c.mlpBias ? 2 * c.intermediateSize + c.hiddenSize : 0)
  const qkNorms = c.qkNorm === "head" ? 2 * c.headDim : c.qkNorm === "projection" ? (c.numHeads + c.numKeyValueHeads) * c.headDim : 0
  const perLayer = attention + mlp + (c.sandwichNorms ? 4 : 2) * c.hiddenSize + qkNorms
  const embeddings = c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2)
  return c.numLayers * perLayer + embeddings + c.hiddenSize
}
