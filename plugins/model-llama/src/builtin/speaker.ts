/**
 * The built-in trained model "speaker": a small Llama (about 1.0 M weights,
 * 2,048-token byte-level BPE) trained from scratch by
 * `tools/builtin-model` on procedurally generated tasks rendered in every
 * prompt format the pipeline sends. Unlike the random presets it is not
 * written on first use: its folder is committed inside this package.
 *
 * @example
 * ```ts
 * import { speakerModelFolder } from "@refine-af/model-llama"
 * speakerModelFolder() // ".../plugins/model-llama/models/speaker"
 * ```
 */
import { fileURLToPath } from "node:url"

/** Name of the trained built-in model (`builtin: speaker` or `builtin: { preset: speaker }`). */
export const SPEAKER_PRESET = "speaker"

/** Absolute path of the committed speaker model folder. */
export const speakerModelFolder = (): string => fileURLToPath(new URL("../../models/speaker", import.meta.url))
