/**
 * Checkpoints split over several files: `model.safetensors.index.json` maps
 * each tensor name to its shard file. A checkpoint folder is opened as one
 * {@link TensorSource} whether it is sharded or a single `model.safetensors`.
 */
import { readFile } from "node:fs/promises"
import * as nodePath from "node:path"
import { Effect, type Scope } from "effect"
import { SafetensorsFormatError, SafetensorsIoError, TensorNotFoundError, type UnsupportedDtypeError } from "./errors.ts"
import type { TensorEntry } from "./header.ts"
import { openSafetensors, type SafetensorsFile } from "./reader.ts"

/** Tensors looked up by name across one or more safetensors files. */
export interface TensorSource {
  readonly names: ReadonlyArray<string>
  readonly entry: (name: string) => Effect.Effect<TensorEntry, TensorNotFoundError>
  readonly readFloat32: (name: string) => Effect.Effect<Float32Array, TensorNotFoundError | SafetensorsIoError | SafetensorsFormatError | UnsupportedDtypeError>
  readonly readBytes: (name: string) => Effect.Effect<Uint8Array, TensorNotFoundError | SafetensorsIoError | SafetensorsFormatError>
  /** How the names asked for map to the stored ones, where they differ (a multimodal checkpoint's decoder): said in errors about missing tensors. */
  readonly naming?: string
}

const badIndex = (path: string, message: string) => new SafetensorsFormatError({ path, problem: "BadIndex", message })

/** Parses and checks an index file's JSON: a `weight_map` of tensor name → shard file name inside the same folder. */
export const parseShardIndex = (path: string, text: string): Effect.Effect<ReadonlyMap<string, string>, SafetensorsFormatError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    return Effect.fail(badIndex(path, `${path} is not valid JSON (${String(cause)}); re-download the checkpoint index.`))
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) {
    return Effect.fail(badIndex(path, `${path} has no "weight_map" object; expected { "weight_map": { tensor name: shard file } }.`))
  }
  const map = new Map<string, string>()
  for (const [name, file] of Object.entries(weightMap)) {
    // A shard must be a plain file name in the checkpoint folder: a path like "../x" could read anywhere.
    if (typeof file !== "string" || file !== nodePath.basename(file) || file === "." || file === ".." || !file.endsWith(".safetensors")) {
      return Effect.fail(badIndex(path, `${path}: tensor "${name}" maps to ${JSON.stringify(file)}, which is not a *.safetensors file name inside the checkpoint folder.`))
    }
    map.set(name, file)
  }
  return Effect.succeed(map)
}

const fromFiles = (byName: ReadonlyMap<string, SafetensorsFile>, where: string): TensorSource => {
  const lookup = (name: string) => {
    const file = byName.get(name)
    return file
      ? Effect.succeed(file)
      : Effect.fail(new TensorNotFoundError({ path: where, name, message: `${where} has no tensor "${name}". Check the model architecture and the tensor naming.` }))
  }
  return {
    names: [...byName.keys()],
    entry: (name) => Effect.flatMap(lookup(name), (file) => file.entry(name)),
    readFloat32: (name) => Effect.flatMap(lookup(name), (file) => file.readFloat32(name)),
    readBytes: (name) => Effect.flatMap(lookup(name), (file) => file.readBytes(name))
  }
}

/** Opens a single safetensors file as a {@link TensorSource}. */
export const openSingleFile = (path: string): Effect.Effect<TensorSource, SafetensorsIoError | SafetensorsFormatError, Scope.Scope> =>
  Effect.map(openSafetensors(path), (file) => fromFiles(new Map([...file.header.tensors.keys()].map((name) => [name, file])), path))

/**
 * Opens a sharded checkpoint from its index file. Every shard's header is
 * validated, and every tensor the index names must be in the shard it names.
 */
export const openSharded = Effect.fnUntraced(function* (indexPath: string): Effect.fn.Return<TensorSource, SafetensorsIoError | SafetensorsFormatError, Scope.Scope> {
  const text = yield* Effect.tryPromise({
    try: () => readFile(indexPath, "utf8"),
    catch: (cause) => new SafetensorsIoError({ path: indexPath, message: `Could not read ${indexPath}: ${String(cause)}.` })
  })
  const weightMap = yield* parseShardIndex(indexPath, text)
  const folder = nodePath.dirname(indexPath)
  const shards = new Map<string, SafetensorsFile>()
  for (const shard of new Set(weightMap.values())) shards.set(shard, yield* openSafetensors(nodePath.join(folder, shard)))
  const byName = new Map<string, SafetensorsFile>()
  for (const [name, shard] of weightMap) {
    const file = shards.get(shard)!
    if (!file.header.tensors.has(name)) {
      return yield* Effect.fail(badIndex(indexPath, `${indexPath} says tensor "${name}" is in ${shard}, but that shard has no such tensor; the checkpoint is incomplete.`))
    }
    byName.set(name, file)
  }
  return fromFiles(byName, indexPath)
})
