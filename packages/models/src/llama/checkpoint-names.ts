/**
 * Tensor names of a multimodal checkpoint whose text decoder runs here (gemma3:
 * Gemma3ForConditionalGeneration). The decoder's programs, LoRA modules and caches use
 * the text model's names (`model.layers.N.…`, `model.embed_tokens.weight`,
 * `lm_head.weight`); the checkpoint keeps the decoder under `model.language_model.`
 * (transformers ≥ 4.52) or `language_model.model.` (the hub uploads of 4.50), beside a
 * vision tower and a projector that are not read. Names are compared in transformers'
 * current form, which its loading rules (the model class's checkpoint conversion map)
 * give the older one; a folder is written back in the form it was read in.
 *
 * @example
 * ```ts
 * import { currentTensorName, decoderTensorName } from "@refine-af/models"
 * decoderTensorName(currentTensorName("language_model.model.layers.0.mlp.up_proj.weight")) // "model.layers.0.mlp.up_proj.weight"
 * decoderTensorName("model.vision_tower.vision_model.post_layernorm.weight") // undefined
 * ```
 */
import type { LlamaConfig } from "../config/llama-config.ts"
import type { TensorSource } from "../safetensors/sharded.ts"

/** Where the decoder lives in a multimodal model (transformers ≥ 4.52). */
const LANGUAGE_MODEL = "model.language_model."

/** transformers' renames of checkpoints saved before 4.52 (older prefix → current one). */
const LEGACY_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ["language_model.model.", LANGUAGE_MODEL],
  ["language_model.lm_head.", "lm_head."],
  ["vision_tower.", "model.vision_tower."],
  ["multi_modal_projector.", "model.multi_modal_projector."]
]

/** A tensor or module name in transformers' current form (older multimodal prefixes renamed; any other name as it is). */
export const currentTensorName = (name: string): string => {
  for (const [old, now] of LEGACY_PREFIXES) if (name.startsWith(old)) return now + name.slice(old.length)
  return name
}

/**
 * The decoder's name of a multimodal model's tensor or module (current form): `model.language_model.X`
 * is `model.X`; the heads (`lm_head.*`, `score.*`) keep theirs; the image side (every other `model.*`) has none.
 */
export const decoderTensorName = (current: string): string | undefined =>
  current.startsWith(LANGUAGE_MODEL) ? `model.${current.slice(LANGUAGE_MODEL.length)}` : current.startsWith("model.") ? undefined : current

/** The current form of a decoder name inside a multimodal model (`model.layers.0…` → `model.language_model.layers.0…`). */
export const multimodalTensorName = (decoder: string): string => (decoder.startsWith("model.") ? `${LANGUAGE_MODEL}${decoder.slice("model.".length)}` : decoder)

/** A checkpoint's tensors sorted into the decoder's (by decoder name → stored name) and the rest (stored names). */
export interface CheckpointNames {
  readonly decoder: ReadonlyMap<string, string>
  readonly outside: ReadonlyArray<string>
}

/** Sorts `stored` names for a model of `config` (every name is the decoder's unless the model is multimodal). */
export const checkpointNames = (stored: ReadonlyArray<string>, config: Pick<LlamaConfig, "multimodal">): CheckpointNames => {
  if (config.multimodal === null) return { decoder: new Map(stored.map((name) => [name, name])), outside: [] }
  const decoder = new Map<string, string>()
  const outside: Array<string> = []
  for (const name of stored) {
    const inner = decoderTensorName(currentTensorName(name))
    if (inner === undefined) outside.push(name)
    else decoder.set(inner, name)
  }
  return { decoder, outside }
}

/**
 * The decoder's view of a checkpoint: its tensors under the decoder's names, the image side left
 * out. The source itself for a text-only model.
 */
export const decoderSource = (source: TensorSource, config: Pick<LlamaConfig, "multimodal">): TensorSource => {
  if (config.multimodal === null) return source
  const { decoder } = checkpointNames(source.names, config)
  // A name the decoder lacks is looked up as given, so the "no tensor" error names what was asked for.
  const stored = (name: string) => decoder.get(name) ?? name
  return {
    naming: `the names are the text decoder's: this ${config.multimodal} checkpoint stores them under model.language_model. (transformers ≥ 4.52) or language_model.model. (4.50)`,
    names: [...decoder.keys()],
    entry: (name) => source.entry(stored(name)),
    readFloat32: (name) => source.readFloat32(stored(name)),
    readBytes: (name) => source.readBytes(stored(name))
  }
}
