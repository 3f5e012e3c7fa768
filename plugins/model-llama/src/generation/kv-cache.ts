/**
 * KV-cache tensors between steps: zero caches for a prefill, and row
 * selection — a small gather/concat program that keeps only the still-active
 * rows when a batch has shrunk to a smaller bucket (finished rows stop costing
 * compute) and splices freshly prefilled requests in beside running ones. Caches stay backend tensors throughout (device memory where the
 * provider allows).
 */
import { concat, Graph, gather, type BackendError, type BackendFeed, type DeviceTensor, type HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import type { LlamaConfig } from "@refine-af/models"
import { stepNames } from "@refine-af/models"
import type { LlamaRuntime } from "../model/runtime.ts"

/** Cache tensors by step-program input name (`past_key.<l>`, `past_value.<l>`). */
export type CacheFeeds = Record<string, BackendFeed>

/** Names of every cache input, in layer order. */
export const cacheInputNames = (config: LlamaConfig): Array<string> =>
  Array.from({ length: config.numLayers }, (_, l) => [stepNames.pastKey(l), stepNames.pastValue(l)]).flat()

/** Zero-filled host caches for `batch` rows of `cache` slots (a prefill's "past"). */
export const zeroCaches = (config: LlamaConfig, batch: number, cache: number): CacheFeeds => {
  const shape = [batch, config.numKeyValueHeads, cache, config.headDim]
  const zeros: HostTensor = { dtype: "float32", shape, data: new Float32Array(batch * config.numKeyValueHeads * cache * config.headDim) }
  return Object.fromEntries(cacheInputNames(config).map((name) => [name, zeros]))
}

/** Maps a step's `present_*` outputs to the next step's `past_*` inputs. */
export const presentToPast = (config: LlamaConfig, outputs: Readonly<Record<string, DeviceTensor>>): CacheFeeds =>
  Object.fromEntries(Array.from({ length: config.numLayers }, (_, l) => [
    [stepNames.pastKey(l), outputs[stepNames.presentKey(l)]!],
    [stepNames.pastValue(l), outputs[stepNames.presentValue(l)]!]
  ]).flat())

/** Frees the backend tensors among `caches` (host zero caches are skipped). */
export const releaseCaches = (runtime: LlamaRuntime, caches: CacheFeeds) =>
  Effect.forEach(Object.values(caches), (tensor) => ("handle" in tensor ? Effect.ignore(runtime.backend.release(tensor)) : Effect.void), { discard: true })

const selectPrograms = new WeakMap<LlamaRuntime, Map<string, ReturnType<LlamaRuntime["backend"]["compile"]>>>()

/** Cache tensors of one batch and the rows of it to keep (indices into that batch; repeats allowed). */
export interface CacheRows {
  readonly caches: CacheFeeds
  readonly batch: number
  readonly rows: ReadonlyArray<number>
}

/**
 * Builds new caches from rows of one or more batches, in order (a gather per
 * part, concatenated along the batch axis). Compaction is one part; admitting
 * freshly prefilled requests next to running ones is two. The input caches
 * are released.
 */
export const selectCacheRows = (runtime: LlamaRuntime, parts: ReadonlyArray<CacheRows>, cache: number): Effect.Effect<CacheFeeds, BackendError> => {
  const config = runtime.config
  const names = cacheInputNames(config)
  const used = parts.filter((part) => part.rows.length > 0)
  const key = `${used.map((part) => `${part.batch}:${part.rows.length}`).join("+")}@${cache}`
  let programs = selectPrograms.get(runtime)
  if (!programs) selectPrograms.set(runtime, (programs = new Map()))
  let compiled = programs.get(key)
  if (!compiled) {
    const g = new Graph()
    const indices = used.map((part, p) => g.input(`rows.${p}`, "int64", [part.rows.length]))
    for (const name of names) {
      const pieces = used.map((part, p) => gather(g.input(`part.${p}.${name}`, "float32", [part.batch, config.numKeyValueHeads, cache, config.headDim]), indices[p]!, 0))
      g.output(name, concat(pieces, 0))
    }
    compiled = Effect.runSync(Effect.cached(runtime.backend.compile(g.build(), { keepOnDevice: names })))
    programs.set(key, compiled)
  }
  return Effect.gen(function* () {
    const exe = yield* compiled
    const feeds: Record<string, BackendFeed> = {}
    used.forEach((part, p) => {
      feeds[`rows.${p}`] = { dtype: "int64", shape: [part.rows.length], data: BigInt64Array.from(part.rows, BigInt) } satisfies HostTensor
      for (const name of names) feeds[`part.${p}.${name}`] = part.caches[name]!
    })
    const out = yield* runtime.run(exe, feeds)
    for (const part of parts) yield* releaseCaches(runtime, part.caches)
    return Object.fromEntries(names.map((name) => [name, out[name]!]))
  })
}

/** Keeps rows `keep` (indices into the current batch, padded to the new batch size) of every cache. */
export const compactCaches = (runtime: LlamaRuntime, caches: CacheFeeds, from: number, keep: ReadonlyArray<number>, cache: number): Effect.Effect<CacheFeeds, BackendError> =>
  selectCacheRows(runtime, [{ caches, batch: from, rows: keep }], cache)
