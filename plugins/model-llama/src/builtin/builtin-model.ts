/**
 * Built-in tiny models: a preset + seed names a deterministic random model
 * that is written once into a cache folder and reused, so a recipe can run a
 * real (if nonsensical) language model offline on a fresh clone with no
 * download and no manual step.
 *
 * The folder is written under a private staging name and renamed into place,
 * so a killed run never leaves a half-written model that a later run would
 * trust; two processes racing to write it both end with the same files.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ensureBuiltinModel } from "@refine-af/model-llama"
 * const folder = await Effect.runPromise(ensureBuiltinModel({ preset: "qwen2", seed: 0 }))
 * // ".../.refine-af/models/tiny-qwen2-seed0-v1"
 * ```
 */
import { existsSync } from "node:fs"
import { mkdir, rename, rm } from "node:fs/promises"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { TinyModelWriteError, writeTinyModel, type TinyPresetName } from "@refine-af/models"

/**
 * Bumped whenever the generator would write different bytes for the same
 * preset and seed, so stale cached folders are not reused.
 */
export const BUILTIN_MODEL_FORMAT = 1

/** Which built-in model, and where to cache it. */
export interface BuiltinModelSpec {
  readonly preset: TinyPresetName
  readonly seed: number
  /** Cache folder (default: `$REFINE_AF_MODELS`, else `.refine-af/models` under the working directory). */
  readonly cacheDir?: string
}

/** Default folder for built-in models: `$REFINE_AF_MODELS`, else `.refine-af/models` under the working directory. */
export const defaultModelsDir = (): string => {
  const fromEnv = process.env["REFINE_AF_MODELS"]
  return fromEnv !== undefined && fromEnv !== "" ? nodePath.resolve(fromEnv) : nodePath.resolve(".refine-af", "models")
}

/** The folder a built-in model lives in (whether or not it exists yet). */
export const builtinModelFolder = (spec: BuiltinModelSpec): string =>
  nodePath.join(spec.cacheDir === undefined ? defaultModelsDir() : nodePath.resolve(spec.cacheDir), `tiny-${spec.preset}-seed${spec.seed}-v${BUILTIN_MODEL_FORMAT}`)

/** Returns the built-in model's folder, writing the model first when it is not cached yet. */
export const ensureBuiltinModel = (spec: BuiltinModelSpec) =>
  Effect.gen(function* () {
    const folder = builtinModelFolder(spec)
    if (existsSync(folder)) return folder
    const staging = `${folder}.partial-${process.pid}-${Date.now().toString(36)}`
    const failure = (error: unknown) =>
      new TinyModelWriteError({
        folder,
        message: `could not place the built-in model in ${folder}: ${error instanceof Error ? error.message : String(error)}. Check that the folder is writable, or set REFINE_AF_MODELS to a writable folder.`
      })
    yield* Effect.tryPromise({ try: () => mkdir(nodePath.dirname(folder), { recursive: true }), catch: failure })
    yield* writeTinyModel({ out: staging, config: spec.preset, seed: spec.seed }).pipe(
      // A failed write leaves no partial folder behind.
      Effect.onError(() => Effect.promise(() => rm(staging, { recursive: true, force: true })))
    )
    yield* Effect.tryPromise({
      try: async () => {
        try {
          await rename(staging, folder)
        } catch (error) {
          // Another process placed the same model first: keep theirs.
          if (!existsSync(folder)) throw error
          await rm(staging, { recursive: true, force: true })
        }
      },
      catch: failure
    })
    return folder
  })
