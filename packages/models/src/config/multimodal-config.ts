/**
 * Multimodal `config.json`s whose text decoder runs here: the image side is left unread (text
 * never passes through it), the decoder's config is `text_config`, filled with the text model's
 * transformers defaults where it leaves fields out (a multimodal config lists only what differs).
 *
 * @example
 * ```ts
 * import { multimodalTextConfig } from "@refine-af/models"
 * multimodalTextConfig("gemma3", { text_config: { hidden_size: 2560 }, eos_token_id: [1, 106] })
 * // { vocab_size: 262208, …, hidden_size: 2560, model_type: "gemma3_text", eos_token_id: [1, 106] }
 * ```
 */
import { isJsonObject } from "./fields.ts"

/**
 * gemma3 (Gemma3ForConditionalGeneration: gemma-3-4b / 12b / 27b) around a gemma3_text decoder;
 * mistral3 (Mistral3ForConditionalGeneration: Mistral Small 3.1 / 3.2) around a mistral one.
 */
export const MULTIMODAL_MODEL_TYPES = ["gemma3", "mistral3"] as const

export type MultimodalModelType = (typeof MULTIMODAL_MODEL_TYPES)[number]

/** Whether `modelType` is a multimodal wrapper this plugin reads the text decoder of. */
export const isMultimodalModelType = (modelType: string): modelType is MultimodalModelType => (MULTIMODAL_MODEL_TYPES as ReadonlyArray<string>).includes(modelType)

/**
 * Gemma3TextConfig's defaults, for the fields a config may leave out: the multimodal checkpoints'
 * `text_config` lists only what differs (gemma-3-4b: hidden_size, intermediate_size,
 * num_hidden_layers, rope_scaling, sliding_window). Applied to every gemma3_text config.
 */
export const GEMMA3_TEXT_DEFAULTS: Readonly<Record<string, unknown>> = {
  vocab_size: 262_208,
  hidden_size: 2304,
  intermediate_size: 9216,
  num_hidden_layers: 26,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 256,
  pad_token_id: 0,
  eos_token_id: 1,
  bos_token_id: 2
}

/**
 * MistralConfig's defaults, filled into a mistral3 `text_config` (a plain mistral config is read as
 * written): among them a 4096-token sliding window and 131072 positions.
 */
const MISTRAL_DEFAULTS: Readonly<Record<string, unknown>> = {
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  sliding_window: 4096,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2
}

/** Each wrapper's text model type (its config class's default for `text_config.model_type`) and the defaults filled in. */
const TEXT_MODELS: Readonly<Record<MultimodalModelType, { readonly modelType: string; readonly defaults: Readonly<Record<string, unknown>> }>> = {
  gemma3: { modelType: "gemma3_text", defaults: GEMMA3_TEXT_DEFAULTS },
  mistral3: { modelType: "mistral", defaults: MISTRAL_DEFAULTS }
}

/**
 * The text decoder's config of a multimodal model: `text_config` (absent: every default) over the
 * text model's defaults, with the token ids the top level sets (gemma-3-4b-it's `eos_token_id`
 * [1, 106]) taking precedence; a problem when `text_config` is not of the expected text model.
 */
export const multimodalTextConfig = (wrapper: MultimodalModelType, json: Readonly<Record<string, unknown>>): Record<string, unknown> | string => {
  const { modelType, defaults } = TEXT_MODELS[wrapper]
  const text = json.text_config ?? {}
  if (!isJsonObject(text)) return `"text_config" is ${JSON.stringify(text)}, expected an object (the ${modelType} decoder's fields)`
  if (text.model_type !== undefined && text.model_type !== modelType) return `"text_config" has model_type ${JSON.stringify(text.model_type)}, expected "${modelType}" (the only decoder of a ${wrapper} model this plugin implements)`
  const tokens = Object.fromEntries(["bos_token_id", "eos_token_id", "pad_token_id"].filter((key) => json[key] !== undefined && json[key] !== null).map((key) => [key, json[key]]))
  return { ...defaults, ...text, model_type: modelType, ...tokens }
}
