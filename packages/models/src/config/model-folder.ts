/**
 * A Hugging Face model folder on disk: which files it has, its parsed
 * configs, and where its weights are. Missing pieces are reported together,
 * listing what the folder does contain.
 */
import { readdir, readFile } from "node:fs/promises"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { InvalidConfigError, ModelFolderError, type UnsupportedArchitectureError } from "./errors.ts"
import { emptyGenerationDefaults, parseGenerationConfig, type GenerationDefaults } from "./generation-config.ts"
import { parseLlamaConfig, type LlamaConfig } from "./llama-config.ts"

/** A located and validated model folder. */
export interface ModelFolder {
  readonly folder: string
  readonly config: LlamaConfig
  readonly generation: GenerationDefaults
  /** `model.safetensors`, or the `model.safetensors.index.json` of a sharded checkpoint. */
  readonly weights: { readonly kind: "single" | "sharded"; readonly path: string }
  readonly files: ReadonlyArray<string>
}

const readJson = (path: string) =>
  Effect.tryPromise({ try: () => readFile(path, "utf8"), catch: (cause) => cause }).pipe(
    Effect.flatMap((text) => Effect.try({ try: () => JSON.parse(text) as unknown, catch: (cause) => cause })),
    Effect.mapError((cause) => new InvalidConfigError({ path, problems: [String(cause)], message: `Could not read ${path} as JSON (${String(cause)}); re-download the model folder.` }))
  )

/**
 * Inspects `folder`: requires `config.json`, weights (`model.safetensors` or a
 * sharded index) and `tokenizer.json`; reads `generation_config.json` if present.
 */
export const loadModelFolder = Effect.fnUntraced(function* (folder: string): Effect.fn.Return<ModelFolder, ModelFolderError | InvalidConfigError | UnsupportedArchitectureError> {
  const files = yield* Effect.tryPromise({
    try: () => readdir(folder),
    catch: (cause) => new ModelFolderError({ folder, missing: ["the folder itself"], found: [], message: `Model folder ${folder} cannot be read (${String(cause)}). Check the "path" option points at a downloaded Hugging Face model folder.` })
  })
  const has = (name: string) => files.includes(name)
  const weights = has("model.safetensors.index.json")
    ? { kind: "sharded" as const, path: nodePath.join(folder, "model.safetensors.index.json") }
    : has("model.safetensors") ? { kind: "single" as const, path: nodePath.join(folder, "model.safetensors") } : null
  const missing = [
    ...(has("config.json") ? [] : ["config.json"]),
    ...(weights ? [] : ["model.safetensors (or model.safetensors.index.json)"]),
    ...(has("tokenizer.json") ? [] : ["tokenizer.json"])
  ]
  if (missing.length > 0 || weights === null) {
    const extra = files.some((f) => f.endsWith(".bin") || f.endsWith(".pth")) ? " Pickle weights (.bin/.pth) are not loaded for safety; convert them to safetensors." : ""
    return yield* Effect.fail(new ModelFolderError({
      folder,
      missing,
      found: [...files].sort(),
      message: `Model folder ${folder} is missing ${missing.join(", ")}; it contains: ${files.length ? [...files].sort().join(", ") : "(nothing)"}.${extra}`
    }))
  }
  const configPath = nodePath.join(folder, "config.json")
  const config = yield* Effect.flatMap(readJson(configPath), (json) => parseLlamaConfig(configPath, json))
  const generationPath = nodePath.join(folder, "generation_config.json")
  const generation = has("generation_config.json")
    ? yield* Effect.flatMap(readJson(generationPath), (json) => parseGenerationConfig(generationPath, json))
    : emptyGenerationDefaults
  return { folder, config, generation, weights, files }
})

/** End-of-sequence ids: generation config first (it may list several), then config.json. */
export const endOfSequenceIds = (model: Pick<ModelFolder, "config" | "generation">): ReadonlyArray<number> =>
  [...new Set([...model.generation.eosTokenIds, ...model.config.eosTokenIds])]
