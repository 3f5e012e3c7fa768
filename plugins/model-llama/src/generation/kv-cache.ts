/**
 * KV-cache tensors between steps: zero caches for a prefill, and row
 * selection — a small gather/concat program that keeps only the still-active
 * rows when a batch has shrunk to a smaller bucket (finished rows stop costing
 * compute) and splices freshly prefilled requests in beside running ones. Caches stay backend tensors throughout (device memory where the
 * provider allows), or host typed arrays written in place ({@link CacheKeeper}).
 */
import { concat, downloadAndReleaseAll, Graph, gather, type BackendError, type BackendFeed, type DeviceTensor, type HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import type { CacheUpdate, LlamaConfig, RowStep } from "@refine-af/models"
import { slideCache, stepNames } from "@refine-af/models"
import type { KvCacheMode, LlamaRuntime } from "../model/runtime.ts"

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

/** Step outputs' values as Float32Arrays, in order, in one backend call; the backend tensors are freed. */
export const downloadAndRelease = (runtime: LlamaRuntime, tensors: ReadonlyArray<DeviceTensor>): Effect.Effect<Array<Float32Array>, BackendError> =>
  Effect.map(downloadAndReleaseAll(runtime.backend, tensors), (hosts) => hosts.map((host) => host.data as Float32Array))

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

/**
 * How one decode loop keeps its caches: the step programs' cache mode, fresh
 * caches for a prefill, the caches and slot positions after a step, and row
 * selection. `slide` keeps backend tensors (device memory where the provider
 * allows) that each step returns whole; `append` keeps host typed arrays that
 * the step reads in place and that only the new keys/values are written into.
 */
export interface CacheKeeper {
  readonly update: CacheUpdate
  /** Caches of `batch` rows with every slot free, to be written (a prefill's keys and values go here). */
  readonly fresh: (batch: number) => CacheFeeds
  /**
   * What a prefill reads as its past: caches of `batch` rows with every slot
   * free, read-only (not to be written, advanced, selected or released). One
   * zero array shared by every layer, where the keeper allows, so the step's
   * reads of the empty slots make no memory resident.
   */
  readonly empty: (batch: number) => CacheFeeds
  /** Consumes `caches` and the step's cache outputs; returns the next caches and every row's slot positions. */
  readonly advance: (caches: CacheFeeds, outputs: Readonly<Record<string, DeviceTensor>>, steps: ReadonlyArray<RowStep>) => Effect.Effect<{ caches: CacheFeeds; positions: Array<Array<number>> }, BackendError>
  readonly select: (parts: ReadonlyArray<CacheRows>) => Effect.Effect<CacheFeeds, BackendError>
  readonly release: (caches: CacheFeeds) => Effect.Effect<void>
}

/** The step programs' cache update for a cache mode: device caches slide, host caches are appended to. */
export const cacheUpdateOf = (mode: KvCacheMode): CacheUpdate => (mode === "device" ? "slide" : "append")

/** The keeper for `runtime`'s cache mode and a cache of `cache` slots; `collectAfter`: see {@link COLLECT_AFTER_BYTES}. */
export const cacheKeeper = (runtime: LlamaRuntime, mode: KvCacheMode, cache: number, collectAfter = COLLECT_AFTER_BYTES): CacheKeeper =>
  cacheUpdateOf(mode) === "slide" ? slidingKeeper(runtime, cache) : hostKeeper(runtime, cache, collectAfter)

const slidingKeeper = (runtime: LlamaRuntime, cache: number): CacheKeeper => ({
  update: "slide",
  fresh: (batch) => zeroCaches(runtime.config, batch, cache),
  empty: (batch) => zeroCaches(runtime.config, batch, cache),
  advance: (caches, outputs, steps) =>
    Effect.as(releaseCaches(runtime, caches), { caches: presentToPast(runtime.config, outputs), positions: steps.map((step) => slideCache(step, cache)) }),
  select: (parts) => selectCacheRows(runtime, parts, cache),
  release: (caches) => releaseCaches(runtime, caches)
})

/**
 * Host cache arrays kept between decode loops, per runtime, up to
 * {@link HOST_CACHE_POOL_BYTES}. Every loop used to allocate its caches
 * afresh (and a second set when rows were spliced in): megabytes of
 * ArrayBuffers per prompt that V8 counts as external memory, and external
 * memory churn is what starts its major collections. Each one marks the heap
 * on a background thread for ~25 ms, which on a 2-core machine takes a core
 * from onnxruntime's next decode steps (measured, 30M model: a major GC every
 * ~0.2 s of generation, the steps right after a prefill 1.5-2× slower;
 * allocating 6 MB per 32 bare decode steps alone took them from 1 to 11 major
 * GCs a run). A loop takes arrays here and gives them back when it releases
 * its caches. Taken arrays are zeroed: a free slot is masked, but a
 * non-finite value in it would still reach the weighted sum as 0 · NaN.
 * Arrays past the cap are freed when given back ({@link freeArray}).
 */
export const HOST_CACHE_POOL_BYTES = 64 * 2 ** 20

interface HostCachePool {
  readonly free: Map<number, Array<Float32Array>>
  bytes: number
  /** One never-written zero array per length: every prefill's past ({@link CacheKeeper.empty}). */
  readonly zeros: Map<number, Float32Array>
  /** Bytes of new keys and values downloaded since the last collection ({@link COLLECT_AFTER_BYTES}). */
  downloaded: number
  collections: number
}

/**
 * Host caches download each step's new keys and values, and onnxruntime-node
 * returns every output as a new ArrayBuffer: garbage once copied into the
 * caches, freed only when V8 collects, which external memory alone does not
 * make it do soon. At LLaMA-2-7B's 1 MiB per token, one 8-row prefill of 32
 * tokens leaves 256 MiB of it, and generation's resident memory rose by
 * ~0.7 GiB of such garbage between loops (measured, `.device/probe`
 * sampling, session 41). After this many downloaded bytes the keeper asks
 * V8 for a full collection (~5-50 ms, against seconds of decoding at that
 * size; a 30M or 120M model never downloads this much in a loop). Infinity
 * never collects.
 */
export const COLLECT_AFTER_BYTES = 256 * 2 ** 20

let collector: (() => void) | null | undefined

/**
 * V8's full collection, as `--expose-gc` gives it, enabled at first use (the
 * flag applies to contexts made after it is set: the function comes from a
 * new one). Null where the flag is refused.
 */
const garbageCollector = (): (() => void) | null => {
  if (collector === undefined) {
    try {
      setFlagsFromString("--expose-gc")
      const gc: unknown = runInNewContext("gc")
      collector = typeof gc === "function" ? (gc as () => void) : null
    } catch {
      collector = null
    }
  }
  return collector
}

/** A full collection when `pool`'s keepers have downloaded `collectAfter` bytes since the last one (call where those arrays are unreachable). */
const collectIfDue = (pool: HostCachePool, collectAfter: number) => {
  if (pool.downloaded < collectAfter) return
  pool.downloaded = 0
  const gc = garbageCollector()
  if (gc === null) return
  gc()
  pool.collections++
}

/** Collections the host keepers of `runtime` have asked V8 for (tests, benchmarks). */
export const hostCacheCollections = (runtime: LlamaRuntime): number => hostCachePools.get(runtime)?.collections ?? 0

const hostCachePools = new WeakMap<LlamaRuntime, HostCachePool>()

const poolOf = (runtime: LlamaRuntime): HostCachePool => {
  let pool = hostCachePools.get(runtime)
  if (!pool) hostCachePools.set(runtime, (pool = { free: new Map(), bytes: 0, zeros: new Map(), downloaded: 0, collections: 0 }))
  return pool
}

/** ArrayBuffer's resizable form: ES2024, shipped by Node 20, above this project's ES2023 lib. */
type MaybeResizable = ArrayBuffer & { readonly resizable?: boolean; resize?: (byteLength: number) => void }
const ResizableArrayBuffer = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => MaybeResizable

/**
 * A new host cache array on a resizable ArrayBuffer, so {@link freeArray} can
 * hand its memory back to the OS at once. A plain ArrayBuffer's memory waits
 * for a V8 collection, which external memory alone does not start soon: at
 * LLaMA-2-7B's 1 MiB of keys and values per token, the 8-row caches of one
 * loop are half a GiB, measured still resident through the scoring that
 * followed generation (bench-weights `--flags heap`, session 40).
 *
 * Its pages become resident when first read, not only when written (V8 maps
 * resizable buffers itself; measured on Linux 6.18: reading an untouched
 * 256 MiB one made 256 MiB resident, a plain calloc'd one none). So a
 * prefill never reads these: it reads {@link zeroArray} as its past.
 */
const newArray = (length: number): Float32Array => new Float32Array(new ResizableArrayBuffer(length * 4, { maxByteLength: length * 4 }), 0, length)

/**
 * The zero array of `length` floats every prefill of `pool`'s runtime reads
 * as its past, for every layer: a plain ArrayBuffer (glibc's calloc, whose
 * untouched pages read as the kernel's zero page), never written. Reading
 * fresh cache arrays instead made the 8-row prefill of LLaMA-2-7B hold its
 * half GiB of caches resident while it ran, before any was written.
 */
const zeroArray = (pool: HostCachePool, length: number): Float32Array => {
  let zeros = pool.zeros.get(length)
  if (!zeros) pool.zeros.set(length, (zeros = new Float32Array(length)))
  return zeros
}

/** Returns a host cache array's memory to the OS (it reads as empty afterwards); no-op for a plain buffer. */
const freeArray = (array: Float32Array) => {
  const buffer = array.buffer as MaybeResizable
  if (buffer.resizable) buffer.resize!(0)
}

/** An array of `length` floats from the pool (zeroed when `zero`), or a new one. */
const takeArray = (pool: HostCachePool, length: number, zero: boolean): Float32Array => {
  const array = pool.free.get(length)?.pop()
  if (!array) return newArray(length)
  pool.bytes -= array.byteLength
  if (zero) array.fill(0)
  return array
}

/** Gives arrays back to the pool while it holds less than its cap; the rest are freed at once. */
const giveArrays = (pool: HostCachePool, arrays: Iterable<Float32Array>) => {
  for (const array of arrays) {
    // Already pooled, already freed (a cache given back twice), or a prefill's shared zeros.
    if (array.byteLength === 0 || pool.zeros.get(array.length) === array || pool.free.get(array.length)?.includes(array)) continue
    if (pool.bytes + array.byteLength > HOST_CACHE_POOL_BYTES) {
      freeArray(array)
      continue
    }
    const list = pool.free.get(array.length) ?? []
    list.push(array)
    pool.free.set(array.length, list)
    pool.bytes += array.byteLength
  }
}

/** Bytes of host cache arrays `runtime`'s pool holds (tests). */
export const pooledHostCacheBytes = (runtime: LlamaRuntime): number => hostCachePools.get(runtime)?.bytes ?? 0

const hostKeeper = (runtime: LlamaRuntime, cache: number, collectAfter: number): CacheKeeper => {
  const config = runtime.config
  const names = cacheInputNames(config)
  const kv = config.numKeyValueHeads
  const headDim = config.headDim
  const rowSize = kv * cache * headDim
  const pool = poolOf(runtime)
  const tensor = (batch: number, data: Float32Array): HostTensor => ({ dtype: "float32", shape: [batch, kv, cache, headDim], data })
  const data = (caches: CacheFeeds, name: string) => (caches[name] as HostTensor).data as Float32Array
  const arraysOf = (caches: CacheFeeds) => Object.values(caches).flatMap((t) => ("data" in t && t.data instanceof Float32Array ? [t.data] : []))
  return {
    update: "append",
    fresh: (batch) => Object.fromEntries(names.map((name) => [name, tensor(batch, takeArray(pool, batch * rowSize, true))])),
    empty: (batch) => {
      const zeros = tensor(batch, zeroArray(pool, batch * rowSize))
      return Object.fromEntries(names.map((name) => [name, zeros]))
    },
    advance: (caches, outputs, steps) =>
      Effect.gen(function* () {
        const length = steps[0]?.positions.length ?? 0
        // Each new token with a position takes a free slot (position −1) of its row; padding tokens take none.
        const positions = steps.map((step) => [...step.cachePositions])
        const moves = steps.map((step, r) => {
          const taken: Array<{ from: number; to: number }> = []
          let slot = 0
          step.positions.forEach((position, from) => {
            if (position < 0) return
            while (slot < cache && positions[r]![slot] !== -1) slot++
            if (slot === cache) throw new Error(`KV cache of ${cache} slots is full (row ${r}): the loop admitted a row that does not fit`)
            positions[r]![slot] = position
            taken.push({ from, to: slot })
          })
          return taken
        })
        // Every layer's new keys and values in one backend call.
        const pairs = Array.from({ length: config.numLayers }, (_, l) => [[stepNames.newKey(l), stepNames.pastKey(l)], [stepNames.newValue(l), stepNames.pastValue(l)]] as const).flat()
        // Before this step's downloads exist: the earlier ones are unreachable by now.
        collectIfDue(pool, collectAfter)
        const downloaded = yield* downloadAndRelease(runtime, pairs.map(([output]) => outputs[output]!))
        for (let p = 0; p < pairs.length; p++) {
          const name = pairs[p]![1]
          const fresh = downloaded[p]!
          const target = data(caches, name)
          moves.forEach((taken, r) => {
            // Runs of consecutive tokens going to consecutive slots are copied at once (a prefill is one run per head).
            for (let i = 0; i < taken.length;) {
              let run = 1
              while (i + run < taken.length && taken[i + run]!.from === taken[i]!.from + run && taken[i + run]!.to === taken[i]!.to + run) run++
              for (let h = 0; h < kv; h++) {
                const source = ((r * kv + h) * length + taken[i]!.from) * headDim
                target.set(fresh.subarray(source, source + run * headDim), ((r * kv + h) * cache + taken[i]!.to) * headDim)
              }
              i += run
            }
          })
        }
        // Garbage once this step returns: collected at the next step or at the loop's end, once enough has piled up.
        pool.downloaded += downloaded.reduce((n, array) => n + array.byteLength, 0)
        return { caches, positions }
      }),
    select: (parts) =>
      Effect.sync(() => {
        const used = parts.filter((part) => part.rows.length > 0)
        // Every row of one batch, in order (a prefill's rows joining an empty loop): the same arrays.
        if (used.length === 1 && used[0]!.rows.length === used[0]!.batch && used[0]!.rows.every((row, i) => row === i)) {
          giveArrays(pool, parts.filter((part) => part !== used[0]).flatMap((part) => arraysOf(part.caches)))
          return used[0]!.caches
        }
        const rows = used.reduce((total, part) => total + part.rows.length, 0)
        const selected = Object.fromEntries(names.map((name) => {
          // Every row of it is written below.
          const out = takeArray(pool, rows * rowSize, false)
          let at = 0
          for (const part of parts) {
            if (part.rows.length === 0) continue
            const source = data(part.caches, name)
            for (const row of part.rows) out.set(source.subarray(row * rowSize, (row + 1) * rowSize), (at++) * rowSize)
          }
          return [name, tensor(rows, out)]
        }))
        giveArrays(pool, parts.flatMap((part) => arraysOf(part.caches)))
        return selected
      }),
    release: (caches) =>
      Effect.sync(() => {
        giveArrays(pool, arraysOf(caches))
        collectIfDue(pool, collectAfter)
      })
  }
}
