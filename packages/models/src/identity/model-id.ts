/**
 * Machine-independent identities for model and adapter folders. The id goes
 * into records' lineage, so it must not contain where the folder happens to
 * live (an absolute path differs between machines and checkouts) yet must
 * change whenever the weights do: it is the folder's name plus a SHA-256 over
 * the parsed config and the full bytes of the files that define the model.
 */
import { createHash } from "node:crypto"
import { open, stat } from "node:fs/promises"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { FIELDS_ADDED_LATER } from "../config/llama-config.ts"
import type { ModelFolder } from "../config/model-folder.ts"
import { SafetensorsIoError } from "../safetensors/errors.ts"

// Digests by (absolute path, size, mtime): reloading the same checkpoint in one process hashes it once.
const fileDigests = new Map<string, string>()
const READ_BYTES = 4 << 20

const digestFile = async (path: string): Promise<string> => {
  const info = await stat(path)
  const key = `${nodePath.resolve(path)}\0${info.size}\0${info.mtimeMs}`
  const known = fileDigests.get(key)
  if (known) return known
  const hash = createHash("sha256")
  // One buffer read into again and again: a stream's fresh 4 MiB chunk per read made a 13 GB checkpoint 3,000+
  // allocations, each its own mapping (page faults over the whole file) wherever glibc's mmap threshold is fixed.
  const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, info.size)))
  const file = await open(path, "r")
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
    }
  } finally {
    await file.close()
  }
  const digest = hash.digest("hex")
  fileDigests.set(key, digest)
  return digest
}

/**
 * `<folder name>#<16 hex digits>`: the digest covers `description` and each
 * of `files` (names relative to `folder`, sorted) with its content — never
 * the folder's location.
 */
export const folderIdentity = (folder: string, description: string, files: ReadonlyArray<string>): Effect.Effect<string, SafetensorsIoError> =>
  Effect.tryPromise({
    try: async () => {
      const hash = createHash("sha256").update(description).update("\0")
      for (const file of [...new Set(files)].sort()) hash.update(`${file}\0${await digestFile(nodePath.join(folder, file))}\0`)
      return `${nodePath.basename(nodePath.resolve(folder))}#${hash.digest("hex").slice(0, 16)}`
    },
    catch: (cause) => new SafetensorsIoError({ path: folder, message: `Could not read ${folder} to fingerprint the model (${String(cause)}); check the folder is complete and readable.` })
  })

/**
 * The parsed config as it enters an id: a field of {@link FIELDS_ADDED_LATER}
 * enters only where it differs from the value every earlier model has, so adding
 * it left existing models' ids (and their caches) as they were.
 *
 * @example
 * ```ts
 * import { configDescription } from "@refine-af/models"
 * configDescription({ numLayers: 2, qkNorm: false }) // '{"numLayers":2}'
 * ```
 */
export const configDescription = (config: unknown): string =>
  JSON.stringify(config, (key, value: unknown) =>
    Object.hasOwn(FIELDS_ADDED_LATER, key) && JSON.stringify(value) === JSON.stringify(FIELDS_ADDED_LATER[key as keyof typeof FIELDS_ADDED_LATER]) ? undefined : value)

/**
 * The `LanguageModel` id of a loaded model folder: `llama:<folder name>#<hash>`
 * over the parsed config, tokenizer.json and every safetensors file (and the
 * shard index, when sharded). Copies of one folder at different paths share it.
 */
export const modelIdentity = (model: ModelFolder): Effect.Effect<string, SafetensorsIoError> => {
  const weightFiles = model.files.filter((file) => file.endsWith(".safetensors") || file === "model.safetensors.index.json")
  const files = model.files.includes("tokenizer.json") ? [...weightFiles, "tokenizer.json"] : weightFiles
  return Effect.map(folderIdentity(model.folder, configDescription(model.config), files), (identity) => `llama:${identity}`)
}

/** The id suffix of a PEFT adapter folder: `+adapter:<folder name>#<hash of its config and weights>`. */
export const adapterIdentity = (adapterFolder: string): Effect.Effect<string, SafetensorsIoError> =>
  Effect.map(folderIdentity(adapterFolder, "peft-adapter", ["adapter_config.json", "adapter_model.safetensors"]), (identity) => `+adapter:${identity}`)
