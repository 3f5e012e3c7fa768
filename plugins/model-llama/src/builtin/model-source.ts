/**
 * Where `llama/hf` reads its model from: the `path` option, or the cached
 * folder of a built-in tiny model (written on first use).
 *
 * @example
 * ```ts
 * import { modelFolder } from "./model-source.ts"
 * modelFolder({ builtin: { preset: "qwen2", seed: 0 } }) // Effect<".../tiny-qwen2-seed0-v1">
 * modelFolder({ builtin: "speaker" }) // Effect<".../model-llama/models/speaker">
 * ```
 */
import { Effect } from "effect"
import { ModelSourceError } from "./errors.ts"
import { TINY_PRESET_NAMES, type TinyPresetName } from "@refine-af/models"
import { ensureBuiltinModel } from "./builtin-model.ts"
import { SPEAKER_PRESET, speakerModelFolder } from "./speaker.ts"

/** The model-source options of `llama/hf`. */
export interface ModelSourceOptions {
  readonly path?: string
  readonly builtin?:
    | typeof SPEAKER_PRESET
    | { readonly preset: TinyPresetName | typeof SPEAKER_PRESET; readonly seed?: number; readonly cacheDir?: string }
}

/** The model folder named by the options; writes a built-in model on first use. */
export const modelFolder = (options: ModelSourceOptions): Effect.Effect<string, ModelSourceError> => {
  if (options.path !== undefined && options.builtin !== undefined) {
    return Effect.fail(new ModelSourceError({
      message: `both "path" and "builtin" are set`,
      fix: `Keep one: "path" for a model folder, or "builtin" for the built-in random tiny model.`
    }))
  }
  if (options.path !== undefined) return Effect.succeed(options.path)
  const builtin = options.builtin
  if (builtin === undefined) {
    return Effect.fail(new ModelSourceError({
      message: "no model given",
      fix: `Set "path" to a Hugging Face model folder, or "builtin: { preset: qwen2, seed: 0 }" for the built-in random tiny model.`
    }))
  }
  if (builtin === SPEAKER_PRESET || builtin.preset === SPEAKER_PRESET) {
    if (typeof builtin === "object" && (builtin.seed !== undefined || builtin.cacheDir !== undefined)) {
      return Effect.fail(new ModelSourceError({
        message: `"builtin.seed" and "builtin.cacheDir" do not apply to the trained "speaker" model`,
        fix: `Remove them: "speaker" is a committed, already trained model (seeds and cache folders are for the random presets ${TINY_PRESET_NAMES.join(", ")}).`
      }))
    }
    return Effect.succeed(speakerModelFolder())
  }
  return ensureBuiltinModel({
    preset: builtin.preset,
    seed: builtin.seed ?? 0,
    ...(builtin.cacheDir === undefined ? {} : { cacheDir: builtin.cacheDir })
  }).pipe(
    Effect.mapError((error) => new ModelSourceError({
      message: error.message,
      fix: error._tag === "TinyModelWriteError"
        ? "Make the models folder writable (builtin.cacheDir or REFINE_AF_MODELS), then run again."
        : `Use a preset of the built-in models: speaker (trained), or a random one: ${TINY_PRESET_NAMES.join(", ")}.`
    }))
  )
}
