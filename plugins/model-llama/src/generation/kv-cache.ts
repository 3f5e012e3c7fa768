/**
 * KV-cache tensors between steps: zero caches for a prefill, and row
 * compaction — a small gather program that keeps only the still-active rows
 * when a batch has shrunk to a smaller bucket, so finished rows stop costing
 * compute. Caches stay backend tensors throughout (device memory where the
 * provider allows).
 */
import { Graph, gather, type BackendError, type BackendFeed, type DeviceTensor, type HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import type { LlamaConfig } from "../config/llama-config.ts"
import { stepNames } from "../model/program.ts"
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

const compactPrograms = new WeakMap<LlamaRuntime, Map<string, ReturnType<LlamaRuntime["backend"]["compile"]>>>()

/** Keeps rows `keep` (indices into the current batch, padded to `batch` entries) of every cache. */
export const compactCaches = (runtime: LlamaRuntime, caches: CacheFeeds, from: number, keep: ReadonlyArray<number>, cache: number): Effect.Effect<CacheFeeds, BackendError> => {
  const config = runtime.config
  const names = cacheInputNames(config)
  const key = `${from}->${keep.length}@${cache}`
  let programs = compactPrograms.get(runtime)
  if (!programs) compactPrograms.set(runtime, (programs = new Map()))
  let compiled = programs.get(key)
  if (!compiled) {
    const g = new Graph()
    const rows = g.input("rows", "int64", [keep.length])
    for (const name of names) g.output(name, gather(g.input(name, "float32", [from, config.numKeyValueHeads, cache, config.headDim]), rows, 0))
    compiled = Effect.runSync(Effect.cached(runtime.backend.compile(g.build(), { keepOnDevice: names })))
    programs.set(key, compiled)
  }
  return Effect.gen(function* () {
    const exe = yield* compiled
    const rows: HostTensor = { dtype: "int64", shape: [keep.length], data: BigInt64Array.from(keep, BigInt) }
    const out = yield* runtime.run(exe, { ...caches, rows })
    yield* releaseCaches(runtime, caches)
    return Object.fromEntries(names.map((name) => [name, out[name]!]))
  })
}
