/**
 * `config.json` of Llama-family models (model_type llama / mistral / qwen2),
 * normalised into one {@link LlamaConfig} that the forward pass reads. The
 * per-architecture differences (qkv bias of qwen2, sliding window of mistral
 * and of qwen2's upper layers) become per-layer fields here so the model code
 * has no architecture switches.
 */
import { Effect } from "effect"
import { totalmem } from "node:os"
import { InvalidConfigError, UnsupportedArchitectureError } from "./errors.ts"
import { FieldReader, isJsonObject } from "./fields.ts"
import { SUPPORTED_ROPE_TYPES, type RopeScaling } from "./rope.ts"

/** The `model_type` values this plugin implements. */

/** Bytes per weight of the narrowest precision a Llama model can be held in: int4, block-wise, one float32 scale per 32 weights. */
export const NARROWEST_BYTES_PER_WEIGHT = 0.625

export const SUPPORTED_ARCHITECTURES = ["llama", "mistral", "qwen2"] as const

export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number]

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
  /** Bias on q/k/v projections (qwen2 always; llama with `attention_bias`). */
  readonly qkvBias: boolean
  /** Bias on the output projection (llama with `attention_bias`). */
  readonly oBias: boolean
  /** Bias on gate/up/down (llama with `mlp_bias`). */
  readonly mlpBias: boolean
  /** Per layer: attend only to the last `w` positions (w includes the current one), or null for full causal attention. */
  readonly slidingWindowPerLayer: ReadonlyArray<number | null>
  readonly bosTokenId: number | null
  readonly eosTokenIds: ReadonlyArray<number>
  readonly padTokenId: number | null
}

const parseRopeScaling = (raw: unknown, fields: FieldReader, maxPositionEmbeddings: number): RopeScaling => {
  if (raw === undefined || raw === null) return { type: "default" }
  if (!isJsonObject(raw)) {
    fields.problems.push(`"rope_scaling" is ${JSON.stringify(raw)}, expected an object or null`)
    return { type: "default" }
  }
  const type = raw.rope_type ?? raw.type
  const rope = new FieldReader(raw)
  let scaling: RopeScaling
  switch (type) {
    case "default":
      scaling = { type: "default" }
      break
    case "linear":
    case "dynamic":
      scaling = { type, factor: rope.positiveNumber("factor") }
      break
    case "llama3":
      scaling = {
        type,
        factor: rope.positiveNumber("factor"),
        lowFreqFactor: rope.positiveNumber("low_freq_factor"),
        highFreqFactor: rope.positiveNumber("high_freq_factor"),
        originalMaxPositionEmbeddings: rope.positiveInt("original_max_position_embeddings")
      }
      break
    case "yarn":
      scaling = {
        type,
        factor: rope.positiveNumber("factor"),
        originalMaxPositionEmbeddings: rope.positiveInt("original_max_position_embeddings", maxPositionEmbeddings),
        betaFast: rope.positiveNumber("beta_fast", 32),
        betaSlow: rope.positiveNumber("beta_slow", 1),
        attentionFactor: rope.optionalNumber("attention_factor"),
        mscale: rope.optionalNumber("mscale"),
        mscaleAllDim: rope.optionalNumber("mscale_all_dim"),
        truncate: rope.bool("truncate", true)
      }
      break
    default:
      fields.problems.push(`"rope_scaling" type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_ROPE_TYPES.join(", ")})`)
      return { type: "default" }
  }
  fields.problems.push(...rope.problems.map((p) => `rope_scaling: ${p}`))
  return scaling
}

/** The sliding window of each layer, following each architecture's rules. */
const slidingWindows = (architecture: Architecture, json: Record<string, unknown>, fields: FieldReader, numLayers: number): Array<number | null> => {
  const window = fields.has("sliding_window") ? fields.positiveInt("sliding_window") : null
  if (architecture === "llama" || window === null) return Array.from({ length: numLayers }, () => null)
  if (architecture === "mistral") return Array.from({ length: numLayers }, () => window)
  // qwen2: off unless use_sliding_window; then only layers from max_window_layers up.
  if (!fields.bool("use_sliding_window", false)) return Array.from({ length: numLayers }, () => null)
  const firstWindowLayer = typeof json.max_window_layers === "number" ? json.max_window_layers : numLayers
  return Array.from({ length: numLayers }, (_, layer) => (layer >= firstWindowLayer ? window : null))
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
  if (typeof modelType !== "string" || !(SUPPORTED_ARCHITECTURES as ReadonlyArray<string>).includes(modelType)) {
    return Effect.fail(new UnsupportedArchitectureError({
      path,
      modelType: String(modelType),
      supported: [...SUPPORTED_ARCHITECTURES],
      message: `${path} has model_type ${JSON.stringify(modelType)}; model-llama supports ${SUPPORTED_ARCHITECTURES.join(", ")}. Use a Llama-family checkpoint or another LanguageModel provider.`
    }))
  }
  const architecture = modelType as Architecture
  const fields = new FieldReader(json)
  const hiddenSize = fields.positiveInt("hidden_size")
  const numHeads = fields.positiveInt("num_attention_heads")
  const numKeyValueHeads = fields.positiveInt("num_key_value_heads", numHeads)
  const numLayers = fields.positiveInt("num_hidden_layers")
  const headDim = fields.positiveInt("head_dim", Math.floor(hiddenSize / numHeads))
  const maxPositionEmbeddings = fields.positiveInt("max_position_embeddings", 2048)
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
  const attentionBias = fields.bool("attention_bias", false)
  const activation = json.hidden_act ?? "silu"
  if (activation !== "silu") fields.problems.push(`"hidden_act" is ${JSON.stringify(activation)}; only "silu" (SwiGLU) is supported`)
  if (numHeads % numKeyValueHeads !== 0) fields.problems.push(`num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads})`)
  // Without head_dim the head size is hidden_size / num_attention_heads (as transformers derives it), which must be whole.
  if (json.head_dim === undefined && hiddenSize % numHeads !== 0) fields.problems.push(`hidden_size (${hiddenSize}) must be a multiple of num_attention_heads (${numHeads}) when there is no "head_dim" (the head size would be ${(hiddenSize / numHeads).toFixed(2)})`)
  if (headDim % 2 !== 0) fields.problems.push(`head_dim (${headDim}) must be even for rotary embeddings`)
  const partialRotary = json.partial_rotary_factor
  if (partialRotary !== undefined && partialRotary !== null && partialRotary !== 1) fields.problems.push(`"partial_rotary_factor" ${JSON.stringify(partialRotary)} is not supported (only 1)`)
  const config: LlamaConfig = {
    architecture,
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: fields.positiveNumber("rms_norm_eps", 1e-6),
    ropeTheta: fields.positiveNumber("rope_theta", 10000),
    ropeScaling: parseRopeScaling(json.rope_scaling, fields, maxPositionEmbeddings),
    maxPositionEmbeddings,
    tieWordEmbeddings: fields.bool("tie_word_embeddings", false),
    qkvBias: architecture === "qwen2" || attentionBias,
    oBias: architecture === "llama" && attentionBias,
    mlpBias: architecture === "llama" && fields.bool("mlp_bias", false),
    slidingWindowPerLayer: slidingWindows(architecture, json, fields, numLayers),
    bosTokenId: fields.tokenId("bos_token_id"),
    eosTokenIds: fields.tokenIds("eos_token_id"),
    padTokenId: fields.tokenId("pad_token_id")
  }
  if (fields.problems.length > 0) {
    return Effect.fail(new InvalidConfigError({
      path,
      problems: fields.problems,
      message: `${path} is not a valid ${architecture} config:\n  - ${fields.problems.join("\n  - ")}\nFix these fields (see the model card) and retry.`
    }))
  }
  return Effect.succeed(config)
}

/** Number of parameters of a model with this config (used for reports and benchmarks). */
export const parameterCount = (c: LlamaConfig): number => {
  const attention = c.hiddenSize * c.headDim * (2 * c.numHeads + 2 * c.numKeyValueHeads) +
    (c.qkvBias ? c.headDim * (c.numHeads + 2 * c.numKeyValueHeads) : 0) + (c.oBias ? c.hiddenSize : 0)
  const mlp = 3 * c.hiddenSize * c.intermediateSize + (c.mlpBias ? 2 * c.intermediateSize + c.hiddenSize : 0)
  const perLayer = attention + mlp + 2 * c.hiddenSize
  const embeddings = c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2)
  return c.numLayers * perLayer + embeddings + c.hiddenSize
}
