/**
 * The on-disk cache of quantised weights: one safetensors file per (model
 * content id, scheme, block size) — `<root>/<id>-<scheme>-b<block>/weights.safetensors`
 * holding `<name>#codes` (U8 [rows, blocks, blob]) and `<name>#scales`
 * (F32 [rows, blocks]) for every quantised weight, and the weights kept at
 * float32 (embeddings, LM head, norms) as F32 under their own names: a hit
 * reads nothing of the checkpoint, and a backend that maps files reads every
 * frozen weight from this one file. The model id covers the config and every
 * weight file's bytes, so a changed model gets a new folder; quantisation is
 * deterministic, so a hit is the same as quantising again. A missing,
 * partial or damaged file (or one written before it held the float32
 * weights, or before it recorded its checksum) is a miss (the weights are
 * quantised again and the file rewritten), never an error. Damage is found
 * by content: the file records a SHA-256 of its content in its metadata
 * (`content-checksum.ts`), checked in full the first time the file is used
 * after it changed and vouched for by a stamp after that (`verified-stamp.ts`),
 * so an unchanged file of GBs is not read again at every load; a damaged one
 * is named (`CacheLookup.damaged`, a warning) and rewritten.
 */
import { blocksPerRow, hostByteLength, quantisedPartBytes, type BlockQuantisedWeight, type HostTensor, type QuantisedWeight, type StoredQuantisedWeight, type StoredTensor } from "@refine-af/tensor"
import { freeBytes, openSafetensors, openSingleFile, writeSafetensors, type TensorEntry, type TensorSource, type TensorToWrite } from "@refine-af/models"
import { Effect } from "effect"
import { mkdir, rename, rm } from "node:fs/promises"
import { closeSync, existsSync, openSync, readSync, writeFileSync } from "node:fs"
import * as nodePath from "node:path"
import { CHECKSUM_KEY, checksumToWrite } from "./content-checksum.ts"
import { removeStamp, verifiedOnce } from "./verified-stamp.ts"

const FILE = "weights.safetensors"

/** Schemes a cache file is written for: int8 / int4, or `float32` (every weight at float32, for a backend to map). */
export type CacheScheme = "int8" | "int4" | "float32"

/** The cache folder of one model at one int scheme and block size (`<id>-float32` for float32). */
export const quantCacheFolder = (root: string, modelId: string, scheme: CacheScheme, blockSize: number): string =>
  nodePath.join(root, `${modelId.replace(/[^A-Za-z0-9._-]/g, "_")}-${scheme}${scheme === "float32" ? "" : `-b${blockSize}`}`)

/** The file inside a cache folder. */
export const quantCacheFile = (folder: string): string => nodePath.join(folder, FILE)

/** What a cache hit gives: the quantised weights and the float32 ones, each read from the file only when asked. */
export interface CachedWeights {
  readonly quantised: Record<string, BlockQuantisedWeight>
  readonly weights: Record<string, HostTensor>
}

/** What a cache lookup found: the weights on a hit; on a miss, why when the file was there but damaged. */
export interface CacheLookup {
  readonly cached?: CachedWeights
  /** The file was complete but its content does not match the checksum it was written with (what to warn). */
  readonly damaged?: string
}

/**
 * The cached weights: `shapes` quantised (by their float32 shapes) and
 * `float32Shapes` kept at float32 — a miss (no `cached`) when the cache is
 * absent, its header does not hold all of them whole (dtype and byte length
 * of every part; the safetensors reader checks that every range lies inside
 * the file), it records no checksum (written before it did), or its content
 * does not match that checksum (`damaged` names the file). The content is
 * read once per change of the file ({@link verifiedOnce}); otherwise only
 * the header is: each weight reads its values from the file when asked
 * ({@link readWhenUsed}), and a backend that maps files never asks.
 */
export const readQuantCache = (folder: string, scheme: CacheScheme, blockSize: number, shapes: ReadonlyMap<string, ReadonlyArray<number>>, float32Shapes: ReadonlyMap<string, ReadonlyArray<number>>) =>
  Effect.gen(function* () {
    const file = quantCacheFile(folder)
    if (!existsSync(file)) return {} satisfies CacheLookup
    const source = yield* openSafetensors(file)
    const quantised: Record<string, BlockQuantisedWeight> = {}
    for (const [name, shape] of shapes) {
      // A float32 cache holds no quantised weight.
      if (scheme === "float32") return {} satisfies CacheLookup
      const parts = quantisedPartBytes({ scheme, shape, blockSize })
      const codes = yield* source.entry(`${name}#codes`)
      const scales = yield* source.entry(`${name}#scales`)
      if (codes.dtype !== "U8" || codes.end - codes.begin !== parts.codes || scales.dtype !== "F32" || scales.end - scales.begin !== parts.scales) return {} satisfies CacheLookup
      quantised[name] = lazyWeight({ scheme, shape, blockSize }, storedFrom(folder, codes, scales))
    }
    const weights: Record<string, HostTensor> = {}
    for (const [name, shape] of float32Shapes) {
      const entry = yield* source.entry(name)
      if (entry.dtype !== "F32" || entry.shape.join(",") !== shape.join(",")) return {} satisfies CacheLookup
      weights[name] = lazyTensor(shape, { folder, file: FILE, offset: entry.begin })
    }
    const checksum = source.header.metadata[CHECKSUM_KEY]
    // Written before the cache recorded checksums: nothing says what it should hold, so it is made again.
    if (checksum === undefined) return {} satisfies CacheLookup
    if (!verifiedOnce(file, source.header, checksum)) {
      return { damaged: `the weight cache file ${file} is damaged (its content does not match the checksum recorded when it was written); it is written again from the model's weights` } satisfies CacheLookup
    }
    markUsed(folder)
    return { cached: { quantised, weights } } satisfies CacheLookup
  }).pipe(Effect.scoped, Effect.orElseSucceed((): CacheLookup => ({})))

/**
 * Records a use of the cache folder for `refine-af cache prune` (its last use is its files' latest
 * time) in a file of its own: touching the weights file would change the version its verified
 * stamp vouches for, and the next load would read it whole again. Best effort.
 */
const markUsed = (folder: string): void => {
  try {
    writeFileSync(nodePath.join(folder, LAST_USED), "")
  } catch {
    // A read-only cache still serves; it only ages by its files' times.
  }
}

/** The file whose time is the folder's last use. */
export const LAST_USED = ".last-used"

// Where a weight's codes and scales lie in the cache file (a backend may map them from there).
const storedFrom = (folder: string, codes: TensorEntry, scales: TensorEntry): StoredQuantisedWeight => ({ folder, file: FILE, codesOffset: codes.begin, scalesOffset: scales.begin })

const storedAt = (source: TensorSource, folder: string, name: string) =>
  Effect.map(Effect.all([source.entry(`${name}#codes`), source.entry(`${name}#scales`)]), ([codes, scales]) => storedFrom(folder, codes, scales))

// The weights with their place in the written file.
const locate = (folder: string, written: CachedWeights) =>
  Effect.gen(function* () {
    const source = yield* openSingleFile(quantCacheFile(folder))
    const quantised: Record<string, BlockQuantisedWeight> = {}
    for (const [name, w] of Object.entries(written.quantised)) quantised[name] = { ...w, stored: yield* storedAt(source, folder, name) }
    const weights: Record<string, HostTensor> = {}
    for (const [name, t] of Object.entries(written.weights)) weights[name] = { ...t, stored: { folder, file: FILE, offset: (yield* source.entry(name)).begin } }
    return { quantised, weights } satisfies CachedWeights
  }).pipe(Effect.scoped)

/**
 * Writes the cache file (to a temporary name, then renamed: a crash never
 * leaves a half file under the real name, and a reader that mapped an older
 * file keeps it) and returns the weights with their place in it. The float32
 * weights come first (8-byte aligned, as the format lays out the first
 * tensors); its metadata records the content's checksum (computed from the
 * weights in memory, ~1 s per GiB). Fails, writing nothing, when the disk has less than the file's
 * size plus 1 GiB free (`free`: bytes free on a folder's disk); a failed
 * write removes its temporary file.
 */
export const writeQuantCache = (folder: string, modelId: string, written: CachedWeights, free: (folder: string) => Promise<number> = freeBytes) =>
  Effect.gen(function* () {
    const tensors: Array<Extract<TensorToWrite, { readonly data: ArrayBufferView }>> = Object.entries(written.weights).map(([name, t]) => ({ name, dtype: "F32", shape: t.shape, data: t.data }))
    for (const [name, w] of Object.entries(written.quantised)) {
      const [rows, cols] = w.shape as [number, number]
      const blocks = blocksPerRow(cols, w.blockSize)
      tensors.push({ name: `${name}#codes`, dtype: "U8", shape: [rows, blocks, w.codes.length / (rows * blocks)], data: w.codes })
      tensors.push({ name: `${name}#scales`, dtype: "F32", shape: [rows, blocks], data: w.scales })
    }
    const first = Object.values(written.quantised)[0]
    yield* Effect.tryPromise(() => mkdir(folder, { recursive: true }))
    const size = tensors.reduce((n, t) => n + ("data" in t ? t.data.byteLength : 0), 0)
    const available = yield* Effect.tryPromise(() => free(folder))
    if (available < size + 2 ** 30) return yield* Effect.fail(new Error(`${folder}: ${available} bytes free, the cache file needs ${size} plus 1 GiB`))
    const temporary = `${quantCacheFile(folder)}.${process.pid}.tmp`
    const metadata = { model: modelId, scheme: first?.scheme ?? "float32", block_size: String(first?.blockSize ?? "") }
    const checksum = checksumToWrite(metadata, tensors)
    yield* writeSafetensors(temporary, tensors, { ...metadata, [CHECKSUM_KEY]: checksum }).pipe(
      Effect.tapError(() => Effect.promise(() => rm(temporary, { force: true })))
    )
    // The new file is verified at its first use (read back once): no stamp vouches for it before.
    removeStamp(quantCacheFile(folder))
    yield* Effect.tryPromise(() => rename(temporary, quantCacheFile(folder)))
    // The file is written either way; weights whose place in it cannot be read back are just not mapped.
    return yield* locate(folder, written).pipe(Effect.orElseSucceed(() => written))
  })

/**
 * The weights, each one with a stored copy holding its codes and scales
 * there only: read from the file when something asks for them (a backend
 * that cannot map a program's weights, an upload), kept only while that
 * caller holds them (a weak reference). A backend that maps stored copies
 * (`BackendService.mapsStoredWeights`) never asks, so the loaded codes are
 * garbage once the load returns: one copy, in the file (the system's page
 * cache), for every program.
 */
export const readWhenUsed = (weights: Readonly<Record<string, QuantisedWeight>>): Record<string, QuantisedWeight> =>
  Object.fromEntries(Object.entries(weights).map(([name, weight]) => [name, weight.scheme !== "float16" && weight.stored !== undefined ? lazyWeight(weight, weight.stored) : weight]))

/** The same for float32 weights with a stored copy ({@link readWhenUsed}). */
export const readFloat32WhenUsed = (weights: Readonly<Record<string, HostTensor>>): Record<string, HostTensor> =>
  Object.fromEntries(Object.entries(weights).map(([name, tensor]) => [name, tensor.dtype === "float32" && tensor.stored !== undefined ? lazyTensor(tensor.shape, tensor.stored) : tensor]))

/** The weights read into memory, with no stored copy a backend could map (`mapCachedWeights: false`). */
export const heldQuantised = (weights: Readonly<Record<string, QuantisedWeight>>): Record<string, QuantisedWeight> =>
  Object.fromEntries(Object.entries(weights).map(([name, w]) => [name, w.scheme === "float16" || w.stored === undefined ? w : { scheme: w.scheme, shape: w.shape, blockSize: w.blockSize, codes: w.codes, scales: w.scales }]))

/** The same for float32 weights. */
export const heldFloat32 = (weights: Readonly<Record<string, HostTensor>>): Record<string, HostTensor> =>
  Object.fromEntries(Object.entries(weights).map(([name, t]) => [name, t.stored === undefined ? t : { dtype: t.dtype, shape: t.shape, data: t.data }]))

// `read()`'s result, read again only once the last caller has let it go (a weak reference).
const heldWeakly = <A extends object>(read: () => A): (() => A) => {
  let held: WeakRef<A> | undefined
  return () => {
    const value = held?.deref() ?? read()
    held = new WeakRef(value)
    return value
  }
}

// A float32 tensor whose values are read from its stored copy when asked.
const lazyTensor = (shape: ReadonlyArray<number>, stored: StoredTensor): HostTensor => {
  const path = nodePath.join(stored.folder, stored.file)
  const values = heldWeakly(() => new Float32Array(readRange(path, stored.offset, hostByteLength({ dtype: "float32", shape })).buffer))
  return {
    dtype: "float32",
    shape,
    stored,
    get data(): Float32Array {
      return values()
    }
  }
}

const lazyWeight = (weight: Pick<BlockQuantisedWeight, "scheme" | "shape" | "blockSize">, stored: StoredQuantisedWeight): BlockQuantisedWeight => {
  const parts = quantisedPartBytes(weight)
  const path = nodePath.join(stored.folder, stored.file)
  const codes = heldWeakly(() => readRange(path, stored.codesOffset, parts.codes))
  const scales = heldWeakly(() => new Float32Array(readRange(path, stored.scalesOffset, parts.scales).buffer))
  return {
    scheme: weight.scheme,
    shape: weight.shape,
    blockSize: weight.blockSize,
    stored,
    get codes(): Uint8Array {
      return codes()
    },
    get scales(): Float32Array {
      return scales()
    }
  }
}

// `length` bytes of `path` at `offset` (the cache file is immutable; a short read is a damaged cache).
const readRange = (path: string, offset: number, length: number): Uint8Array => {
  const bytes = new Uint8Array(length)
  const fd = openSync(path, "r")
  try {
    let filled = 0
    while (filled < length) {
      const read = readSync(fd, bytes, filled, length - filled, offset + filled)
      if (read === 0) throw new Error(`${path} ended after ${offset + filled} bytes while reading ${length} bytes at ${offset}; delete the quantised-weight cache folder ${nodePath.dirname(path)} and load again`)
      filled += read
    }
  } finally {
    closeSync(fd)
  }
  return bytes
}
