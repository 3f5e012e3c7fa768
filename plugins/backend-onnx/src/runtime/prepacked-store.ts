/**
 * Pre-packed weights on disk, mapped by every session that reads them.
 *
 * onnxruntime's CPU `MatMulNBits` is fast only with its codes pre-packed
 * (measured: 1.8 ms against 234 ms for one 32000 × 4096 int4 weight), and a
 * session pre-packs in its own anonymous memory: 1.5× the codes, per session
 * (the 1.1B int4 decode group: ~0.7× the model's weight bytes). onnxruntime
 * can also read a pre-packed form from the initializer's external file
 * (`external_data` entries `prepacked_*` = `<kernel>+<hash>|offset;length;0`,
 * offsets in the initializer's own file), which it then maps: measured, one
 * such weight +117 → +23 MiB anonymous per session, the same outputs and speed.
 * It still pre-packs at session creation to compute the hash and uses the
 * blob from the file only when the hashes agree, so a blob written on another
 * CPU or by another onnxruntime is not used (pre-packed in memory instead),
 * never wrong. The same holds for float32 weights a session pre-packs as the
 * right-hand side of MatMul / Gemm (the LM head a decode group reads with
 * `Gemm(transB)` from the cache file: 262 MB at 1.1B that each group held).
 *
 * The store, next to the mapped files it serves (one folder per session:
 * onnxruntime resolves external files in one folder), is
 * `prepacked-<signature>.bin` — for each weight a copy of its codes (the
 * pre-packed entries must lie in the same file as the initializer they
 * belong to) and its pre-packed blobs, 4 KiB aligned, append-only (a mapped
 * range never changes) — and `prepacked-<signature>.json`, the index by
 * source (codes and scales file ranges, each file's version — inode, size,
 * modification time — and the kernel's attributes), written
 * after the data is synced (a crash leaves unindexed bytes, never an index
 * entry without its bytes). The signature is onnxruntime's version and the
 * CPU's model and flags. Blobs are made by onnxruntime itself: a session of
 * MatMulNBits nodes over the missing weights, in chunks, with
 * `session.save_external_prepacked_constant_initializers`, whose written
 * model and data are read back (`onnx/read.ts`) and copied into the store.
 * Processes share a store through a lock file (the holder's process id and
 * host); one that finds it held uses what is indexed and pre-packs the rest
 * in memory. A lock whose holder is a dead process of this host (a run
 * killed while making the store), or untouched for ten minutes, is taken.
 *
 * Each index entry records the SHA-256 of its bytes as they were appended
 * (codes copy, then blobs), and sessions are given only entries whose bytes
 * match (`prepacked-verify.ts`: read once per change of the store file,
 * vouched for by `prepacked-<signature>.verified` after that). A damaged
 * entry is dropped from the index and made again (appended: a mapped range
 * never changes), with one warning naming the store file. An index of an
 * older format (no checksums) is a store made again from scratch.
 */
import { createHash } from "node:crypto"
import { closeSync, existsSync, fstatSync, fsyncSync, linkSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statfsSync, statSync, unlinkSync, utimesSync, writeFileSync, writeSync } from "node:fs"
import { hostname } from "node:os"
import * as nodePath from "node:path"
import * as ort from "onnxruntime-node"
import type { OnnxAttribute, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor } from "../onnx/model.ts"
import { MICROSOFT_DOMAIN } from "../compile/quantised-weights.ts"
import { encodeModel } from "../onnx/model.ts"
import { readInitializers } from "../onnx/read.ts"
import { cpuFeatures } from "./cpu-features.ts"
import { appendedChecksum } from "./prepacked-checksum.ts"
import { tiledInFiles } from "./prepacked-layout.ts"
import { sameVersion, verifyEntries, versionOf as storeVersion, writeStamp, type Verification } from "./prepacked-verify.ts"
import type { Hash } from "node:crypto"

/** 2: entries record their checksum; 3: and where an int4 blob holds its codes and scales in a known layout. */
const FORMAT = 3
const ALIGN = 4096
/** Codes per generating session: bounds its transient memory (~1.5× in pre-packed form) and its temporary files (~2.75×). */
const CHUNK_BYTES = 128 * 2 ** 20
/** A lock older than this (not touched since) belongs to a process that died. */
const STALE_LOCK_MS = 10 * 60 * 1000
/** Prefix of the temporary folders onnxruntime writes a chunk's model and data into. */
const TEMPORARY = ".prepacking-"

interface Range {
  readonly location: string
  readonly offset: number
  readonly length: number
}

/**
 * A weight a session would pre-pack: a MatMulNBits weight (its mapped codes and scales) or a float32 right-hand
 * side of MatMul / Gemm (`codes`: the weight itself), the kernel and the attributes its pre-packed form depends on,
 * and the product's inner and outer sizes.
 */
interface Packable {
  readonly key: string
  readonly opType: "MatMulNBits" | "MatMul" | "Gemm"
  readonly codes: OnnxTensor & { readonly external: Range }
  readonly scales?: OnnxTensor & { readonly external: Range }
  readonly attributes: ReadonlyArray<OnnxAttribute>
  readonly k: number
  readonly n: number
}

interface Entry {
  /** The codes' copy in the store file. */
  readonly offset: number
  readonly length: number
  /** onnxruntime's pre-packed blobs: its key and the blobs' [offset, length] in the store file. */
  readonly prepacked: ReadonlyArray<readonly [string, ReadonlyArray<readonly [number, number]>]>
  /** SHA-256 of the codes copy and the blobs, in that order, as appended. */
  readonly sha256: string
  /** Where the blob holds the codes and scales in the layout `prepacked-layout.ts` reads (store file offsets), when it does. */
  readonly tiled?: { readonly codes: number; readonly scales: number }
}

interface Index {
  readonly format: number
  readonly entries: Readonly<Record<string, Entry>>
}

let signature: string | undefined

/** onnxruntime's version and the CPU (model and feature flags): a pre-packed form is specific to both. Read once per process. */
export const storeSignature = (): string => (signature ??= readSignature())

const readSignature = (): string => {
  const { model, flags } = cpuFeatures()
  const cpu = `${model}${flags === undefined ? "" : ` ${[...flags].join(" ")}`}`
  return createHash("sha256").update(`${ort.env.versions.node ?? "?"}|${cpu}`).digest("hex").slice(0, 16)
}

const intAttribute = (node: OnnxNode, name: string): number | undefined => {
  const a = node.attributes?.find((x) => x.name === name)
  return a !== undefined && "int" in a ? a.int : undefined
}

/** Every node of a graph and of its subgraphs (`If` branches). */
const allNodes = (graph: OnnxGraph): Array<OnnxNode> =>
  graph.nodes.flatMap((n) => [n, ...(n.attributes ?? []).flatMap((a) => ("graph" in a && a.graph !== undefined ? allNodes(a.graph) : []))])

const isMapped = (t: OnnxTensor | undefined): t is OnnxTensor & { readonly external: Range } => t?.external !== undefined

const rangeKey = (r: Range) => `${r.location}@${r.offset}+${r.length}`

/**
 * The version of a file in `folder` now (inode, size, modification time): a file replaced by another
 * (written elsewhere and renamed over it, as the quantised-weight cache is) is a new source, whose
 * weights the store's copies of the old codes must not serve.
 */
const fileVersions = (folder: string): ((location: string) => string) => {
  const seen = new Map<string, string>()
  return (location) => {
    let version = seen.get(location)
    if (version === undefined) {
      try {
        const s = statSync(nodePath.join(folder, location))
        version = `${s.ino}:${s.size}:${Math.round(s.mtimeMs)}`
      } catch {
        version = "absent"
      }
      seen.set(location, version)
    }
    return version
  }
}

/**
 * The weights of `model` a session pre-packs that are mapped initializers of its main graph: MatMulNBits codes
 * (with their scales) and float32 right-hand sides of MatMul / Gemm (the float32 weights the quantised-weight cache
 * holds too, e.g. the LM head a decode group reads with `Gemm(transB)`), unless the graph reads it as it is (a graph
 * input too: an overridable initializer, which onnxruntime does not pre-pack).
 */
const packables = (model: OnnxModel, versionOf: (location: string) => string): Array<Packable> => {
  const overridable = new Set(model.graph.inputs.map((i) => i.name))
  const initializers = new Map(model.graph.initializers.filter((t) => !overridable.has(t.name)).map((t) => [t.name, t]))
  const source = (r: Range) => `${rangeKey(r)}#${versionOf(r.location)}`
  const found: Array<Packable> = []
  for (const node of allNodes(model.graph)) {
    if (node.opType === "MatMulNBits" && node.inputs.length === 3) {
      const codes = initializers.get(node.inputs[1]!)
      const scales = initializers.get(node.inputs[2]!)
      if (!isMapped(codes) || !isMapped(scales)) continue
      const attributes = (node.attributes ?? []).filter((a) => "int" in a)
      const signature = ["K", "N", "bits", "block_size", "accuracy_level"].map((name) => `${name}=${intAttribute(node, name) ?? ""}`).join(",")
      found.push({ key: `${source(codes.external)}|${source(scales.external)}|${signature}`, opType: "MatMulNBits", codes, scales, attributes, k: intAttribute(node, "K") ?? 0, n: intAttribute(node, "N") ?? 0 })
    } else if ((node.opType === "MatMul" || node.opType === "Gemm") && (node.domain ?? "") === "" && node.inputs.length >= 2) {
      const weight = initializers.get(node.inputs[1]!)
      if (!isMapped(weight) || weight.dataType !== "float32" || weight.dims.length !== 2 || (intAttribute(node, "transA") ?? 0) !== 0) continue
      const transB = node.opType === "Gemm" && intAttribute(node, "transB") === 1
      const [rows, cols] = weight.dims as [number, number]
      const attributes = node.opType === "Gemm" ? [{ name: "transB", int: transB ? 1 : 0 }] : []
      found.push({ key: `${source(weight.external)}|${node.opType}|transB=${transB ? 1 : 0}`, opType: node.opType, codes: weight, attributes, k: transB ? cols : rows, n: transB ? rows : cols })
    }
  }
  return found
}

/** The store of one folder. */
interface Store {
  readonly bin: string
  readonly index: string
  readonly lock: string
  /** The stamp vouching for entries already checked (`prepacked-verify.ts`). */
  readonly stamp: string
  readonly file: string
}

const storeIn = (folder: string, signature: string): Store => ({
  bin: nodePath.join(folder, `prepacked-${signature}.bin`),
  index: nodePath.join(folder, `prepacked-${signature}.json`),
  lock: nodePath.join(folder, `prepacked-${signature}.lock`),
  stamp: nodePath.join(folder, `prepacked-${signature}.verified`),
  file: `prepacked-${signature}.bin`
})

/** The format of the index on disk; undefined when there is none or it cannot be read. */
const indexFormat = (store: Store): unknown => {
  try {
    return (JSON.parse(readFileSync(store.index, "utf8")) as Index).format
  } catch {
    return undefined
  }
}

/** The index's entries whose bytes the store file holds; an unreadable index is empty (its data is appended to again). */
const readIndex = (store: Store): Record<string, Entry> => {
  let size: number
  let parsed: Index
  try {
    size = statSync(store.bin).size
    parsed = JSON.parse(readFileSync(store.index, "utf8")) as Index
  } catch {
    return {}
  }
  if (parsed.format !== FORMAT || typeof parsed.entries !== "object" || parsed.entries === null) return {}
  const valid: Record<string, Entry> = {}
  for (const [key, entry] of Object.entries(parsed.entries)) {
    const ranges = [[entry.offset, entry.length] as const, ...(entry.prepacked ?? []).flatMap(([, blobs]) => blobs)]
    const bounded = ranges.every(([offset, length]) => Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length > 0 && offset + length <= size)
    if (bounded && typeof entry.sha256 === "string") valid[key] = entry
  }
  return valid
}

/** What a lock file says of its holder: its process id and host. */
const lockHolder = (): string => `${process.pid} ${hostname()}\n`

/** The process id and host a lock file's content names (either undefined where it names none). */
const holderOf = (content: string): { readonly pid: string | undefined; readonly host: string | undefined } => {
  const [pid, host] = content.trim().split(/\s+/)
  return { pid: pid === "" ? undefined : pid, host }
}

/**
 * Whether a lock file's holder is known dead: a process of this host (by the
 * id and host the lock records) that no longer runs, as a run killed while
 * making the store leaves it. Another host's, an unreadable or an old-format
 * (empty) lock is not known dead: only its age says (STALE_LOCK_MS).
 */
export const lockHolderDead = (content: string): boolean => {
  const { pid, host } = holderOf(content)
  const id = Number(pid)
  if (!Number.isSafeInteger(id) || id <= 0 || id === process.pid || host !== hostname()) return false
  try {
    process.kill(id, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH"
  }
}

const readLock = (path: string): string | undefined => {
  try {
    return readFileSync(path, "utf8")
  } catch {
    return undefined
  }
}

/**
 * Removes a lock its holder left (dead, or untouched for STALE_LOCK_MS): moved
 * aside first, then checked to be the one judged, so a lock another process
 * took meanwhile is put back rather than removed.
 */
const removeLeftLock = (store: Store, judged: string): void => {
  const aside = `${store.lock}.${process.pid}.${Date.now()}.left`
  try {
    renameSync(store.lock, aside)
  } catch {
    return // Released meanwhile.
  }
  if (readLock(aside) !== judged) {
    try {
      linkSync(aside, store.lock)
    } catch {
      // Another lock is already there: that process holds the store.
    }
  }
  rmSync(aside, { force: true })
}

/** Takes the store's lock file; false when another live process holds it. */
const takeLock = (store: Store): boolean => {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(store.lock, "wx")
      try {
        writeSync(fd, lockHolder())
      } finally {
        closeSync(fd)
      }
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") return false
      const content = readLock(store.lock)
      if (content === undefined) continue // Released meanwhile: try again.
      let age: number
      try {
        age = Date.now() - statSync(store.lock).mtimeMs
      } catch {
        continue
      }
      if (age < STALE_LOCK_MS && !lockHolderDead(content)) return false
      removeLeftLock(store, content)
    }
  }
  return false
}

/** Why a locked store serves nothing: who holds the lock, and the way out. */
const lockedReason = (store: Store): string => {
  const { pid, host } = holderOf(readLock(store.lock) ?? "")
  const holder = pid !== undefined ? `process ${pid}${host !== undefined && host !== hostname() ? ` on ${host}` : ""}` : "another process"
  return `${holder} is making the store (lock file ${store.lock}; if no other run uses this model cache, delete the lock file)`
}

/**
 * Copies `length` bytes at `from` of file `source` to the end of `target` (an open descriptor), after padding to
 * {@link ALIGN}, adding them to `checksum`; the copy's offset.
 */
const appendRange = (target: number, source: number, from: number, length: number, buffer: Buffer, checksum: Hash): number => {
  let end = fstatSync(target).size
  const pad = (ALIGN - (end % ALIGN)) % ALIGN
  if (pad > 0) {
    writeSync(target, Buffer.alloc(pad))
    end += pad
  }
  for (let done = 0; done < length; ) {
    const read = readSync(source, buffer, 0, Math.min(buffer.length, length - done), from + done)
    if (read <= 0) throw new Error("the pre-packed data onnxruntime wrote is shorter than its model says")
    writeSync(target, buffer, 0, read)
    checksum.update(buffer.subarray(0, read))
    done += read
  }
  return end
}

const parseBlobs = (value: string): readonly [string, Array<readonly [number, number]>] | undefined => {
  const [key, ...blobs] = value.split("|")
  const ranges = blobs.map((b) => b.split(";").map(Number)).filter((f) => f.length === 3 && f.every(Number.isSafeInteger)).map(([offset, length]) => [offset!, length!] as const)
  return key !== undefined && key.length > 0 && ranges.length > 0 ? [key, ranges] : undefined
}

/** A mapped initializer under another name, pointing at its range only (no other external entries). */
const renamed = (t: OnnxTensor & { readonly external: Range }, name: string): OnnxTensor => ({ name, dataType: t.dataType, dims: t.dims, external: { location: t.external.location, offset: t.external.offset, length: t.external.length } })

/** Has onnxruntime pre-pack `chunk` and write it out; copies each weight's codes and blobs into the store. */
const generate = async (store: Store, folder: string, chunk: ReadonlyArray<Packable>, threads: number): Promise<Record<string, Entry>> => {
  const ks = [...new Set(chunk.map((p) => p.k))]
  const model: OnnxModel = {
    irVersion: 8,
    opsetVersion: 18,
    extraOpsets: [MICROSOFT_DOMAIN],
    producerName: "refine-af/backend-onnx prepacked store",
    graph: {
      name: "prepack",
      nodes: chunk.map((p, i): OnnxNode =>
        p.opType === "MatMulNBits"
          ? { opType: "MatMulNBits", domain: MICROSOFT_DOMAIN.domain, inputs: [`x${p.k}`, `codes${i}`, `scales${i}`], outputs: [`y${i}`], attributes: p.attributes, name: `w${i}` }
          : { opType: p.opType, inputs: [`x${p.k}`, `codes${i}`], outputs: [`y${i}`], attributes: p.attributes, name: `w${i}` }
      ),
      inputs: ks.map((k) => ({ name: `x${k}`, dataType: "float32" as const, dims: [1, k] })),
      outputs: chunk.map((p, i) => ({ name: `y${i}`, dataType: "float32" as const, dims: [1, p.n] })),
      initializers: chunk.flatMap((p, i) => [renamed(p.codes, `codes${i}`), ...(p.scales === undefined ? [] : [renamed(p.scales, `scales${i}`)])])
    }
  }
  const temporary = mkdtempSync(nodePath.join(folder, TEMPORARY))
  try {
    const session = await ort.InferenceSession.create(encodeModel(model), {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "basic",
      logSeverityLevel: 3,
      enableCpuMemArena: false,
      ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
      optimizedModelFilePath: nodePath.join(temporary, "prepack.onnx"),
      extra: {
        session: {
          model_external_initializers_file_folder_path: folder,
          optimized_model_external_initializers_file_name: "prepack.data",
          optimized_model_external_initializers_min_size_in_bytes: "0",
          save_external_prepacked_constant_initializers: "1",
          force_spinning_stop: "1"
        }
      }
    })
    await session.release()
    const written = new Map(readInitializers(readFileSync(nodePath.join(temporary, "prepack.onnx"))).map((t) => [t.name, new Map(t.external)]))
    const data = openSync(nodePath.join(temporary, "prepack.data"), "r")
    const target = openSync(store.bin, "a")
    const made: Record<string, Entry> = {}
    const buffer = Buffer.allocUnsafe(16 * 2 ** 20)
    try {
      chunk.forEach((p, i) => {
        const entries = written.get(`codes${i}`)
        const offset = Number(entries?.get("offset") ?? "0")
        const length = Number(entries?.get("length"))
        const blobs = [...(entries ?? [])].filter(([k]) => k.startsWith("prepacked")).map(([, v]) => parseBlobs(v)).filter((b) => b !== undefined)
        // A weight onnxruntime did not pre-pack (or wrote elsewhere) is left out: sessions pre-pack it themselves.
        if (entries?.get("location") !== "prepack.data" || length !== p.codes.external.length || blobs.length === 0) return
        const checksum = appendedChecksum()
        const copy = appendRange(target, data, offset, length, buffer, checksum)
        const tiled = p.opType === "MatMulNBits" && blobs.length === 1 && blobs[0]![1].length === 1 ? tiledInFiles(folder, p, data, blobs[0]![1][0]!) : undefined
        const prepacked = blobs.map(([key, ranges]) => [key, ranges.map(([from, size]) => [appendRange(target, data, from, size, buffer, checksum), size] as const)] as const)
        const at = prepacked[0]?.[1][0]?.[0] ?? 0
        made[p.key] = { offset: copy, length, prepacked, sha256: checksum.digest("hex"), ...(tiled === undefined ? {} : { tiled: { codes: at + tiled.codes, scales: at + tiled.scales } }) }
      })
      fsyncSync(target)
    } finally {
      closeSync(target)
      closeSync(data)
    }
    return made
  } finally {
    rmSync(temporary, { recursive: true, force: true })
  }
}

/** `index` without the `damaged` entries of `checked` (an entry made again since, at another offset, stays). */
const withoutDamaged = (index: Record<string, Entry>, checked: Readonly<Record<string, Entry>>, damaged: ReadonlyArray<string>): Record<string, Entry> => {
  const kept = { ...index }
  for (const key of damaged) if (kept[key]?.offset === checked[key]?.offset) delete kept[key]
  return kept
}

/** Adds `made` to the index on disk (re-read first: other processes may have added entries) and drops `damaged` entries not made again, atomically. */
const writeIndex = (store: Store, made: Record<string, Entry>, damaged: ReadonlyArray<string> = []): void => {
  const entries: Record<string, Entry> = { ...readIndex(store), ...made }
  for (const key of damaged) if (made[key] === undefined) delete entries[key]
  const temporary = `${store.index}.${process.pid}.tmp`
  writeFileSync(temporary, JSON.stringify({ format: FORMAT, entries } satisfies Index))
  renameSync(temporary, store.index)
}

/** The codes initializer pointing at its copy in the store, with every pre-packed form indexed for it. */
const fromStore = (store: Store, codes: OnnxTensor, entries: ReadonlyArray<Entry>): OnnxTensor => {
  const first = entries[0]!
  const prepacked = entries.flatMap((e) => e.prepacked).map(([key, blobs], i) => [`prepacked_${i}`, `${key}|${blobs.map(([o, l]) => `${o};${l};0`).join("|")}`] as const)
  return { ...codes, external: { location: store.file, offset: first.offset, length: first.length, entries: prepacked } }
}

const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1)

/** Free bytes on the file system of `folder` (for this user); unknown = unlimited. */
const freeDiskBytes = (folder: string): number => {
  try {
    const fs = statfsSync(folder)
    return fs.bavail * fs.bsize
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

/**
 * Disk the store needs for `missing`: a copy of the codes and the pre-packed
 * form (~1.5× the codes for int4 with int8 activations; 2× taken), one
 * chunk's temporary files (the chunk's codes, scales and pre-packed form
 * again), and 1 GiB left for everything else.
 */
const diskNeeded = (missing: ReadonlyArray<Packable>): number => {
  const codes = missing.reduce((n, p) => n + p.codes.external.length + (p.scales?.external.length ?? 0), 0)
  return 3 * codes + 4 * Math.min(codes, CHUNK_BYTES) + 2 ** 30
}

/** Folders whose store could not be written by this process (not tried again), with why. */
const unwritable = new Map<string, string>()
/** One store update at a time per folder in this process. */
const queues = new Map<string, Promise<unknown>>()

/** What {@link withPrepackedStore} gives back: the models, and why the store could not be written when that just happened. */
export interface StoreResult {
  readonly models: ReadonlyArray<OnnxModel>
  /** Said once per folder and process: the store there could not be written (sessions pre-pack in memory); or it was found damaged (once per damage). */
  readonly problem?: string
  /** Bytes of the weights (codes and scales) the store does not serve: their sessions pre-pack them in memory. */
  readonly unservedBytes: number
  /** Why the store serves none or only some of them (its problem now or earlier, or another process making it). */
  readonly unservedReason?: string
  /** Per model: its MatMulNBits codes initializers whose blob the store holds in the layout `prepacked-layout.ts` reads, and where. */
  readonly tiled?: ReadonlyArray<ReadonlyMap<string, { readonly file: string; readonly codes: number; readonly scales: number }>>
}

/**
 * `models` (a session's program, or the members of a session group) with
 * every MatMulNBits weight mapped from `folder` read from the store there,
 * pre-packed forms included; missing weights are pre-packed into the store
 * first. Never fails: a weight the store cannot serve stays as it was.
 */
export const withPrepackedStore = async (models: ReadonlyArray<OnnxModel>, folder: string, threads: number, freeDisk: (folder: string) => number = freeDiskBytes): Promise<StoreResult> => {
  const versionOf = fileVersions(folder)
  const wanted = models.map((model) => packables(model, versionOf))
  if (wanted.every((w) => w.length === 0)) return { models, unservedBytes: 0 }
  let problem: string | undefined
  const store = storeIn(folder, storeSignature())
  const previous = queues.get(folder) ?? Promise.resolve()
  let damaged: Verification["damaged"] = []
  const update = previous.then(async () => {
    const onDisk = readIndex(store)
    // Only entries whose bytes match their checksum are served (the ones this call wants; read once per change of the file).
    const wantedKeys = new Set(wanted.flat().map((p) => p.key))
    const check = verifyEntries(store.bin, store.stamp, Object.fromEntries(Object.entries(onDisk).filter(([key]) => wantedKeys.has(key))))
    damaged = check.damaged
    const known = withoutDamaged(onDisk, onDisk, damaged)
    const missing = [...new Map(wanted.flat().filter((p) => known[p.key] === undefined).map((p) => [p.key, p])).values()]
    if (missing.length === 0 || unwritable.has(folder) || !takeLock(store)) return known
    try {
      // The store must not take the disk the run writes its results to.
      const needed = diskNeeded(missing)
      const free = freeDisk(folder)
      if (free < needed) throw new Error(`it needs about ${gib(needed)} GiB of disk and ${gib(free)} GiB are free`)
      // Holding the lock: temporary folders here were left by a process that died while making blobs.
      for (const name of readdirSync(folder)) if (name.startsWith(TEMPORARY)) rmSync(nodePath.join(folder, name), { recursive: true, force: true })
      // A store of an older format (no checksums) is made again from scratch (processes that mapped it keep their copy).
      const format = indexFormat(store)
      if (format !== undefined && format !== FORMAT) for (const file of [store.index, store.bin, store.stamp]) rmSync(file, { force: true })
      // What was verified stays vouched for after the appends only if nothing else changed the file since.
      const vouched = sameVersion(storeVersion(store.bin), check.version) ? check.good : {}
      const made: Record<string, Entry> = {}
      let chunk: Array<Packable> = []
      let bytes = 0
      const flush = async () => {
        if (chunk.length === 0) return
        Object.assign(made, await generate(store, folder, chunk, threads))
        writeIndex(store, made, damaged)
        writeStamp(store.stamp, store.bin, storeVersion(store.bin), { ...vouched, ...Object.fromEntries(Object.entries(made).map(([key, entry]) => [key, entry.sha256])) })
        utimesSync(store.lock, new Date(), new Date())
        chunk = []
        bytes = 0
      }
      for (const p of missing) {
        if (bytes > 0 && bytes + p.codes.external.length > CHUNK_BYTES) await flush()
        chunk.push(p)
        bytes += p.codes.external.length
      }
      await flush()
    } catch (error) {
      // Disk full, a read-only folder, onnxruntime refusing: sessions pre-pack in memory as before.
      problem = `the pre-packed weight store in ${folder} could not be written (${error instanceof Error ? error.message : String(error)}); sessions pre-pack the weights it would serve in their own memory instead (about 1.5× int codes, 1× float32 weights). Free disk space or make the folder writable; prepacked_store: false stops trying`
      unwritable.set(folder, problem)
    } finally {
      try {
        unlinkSync(store.lock)
      } catch {
        // Already gone.
      }
    }
    return withoutDamaged(readIndex(store), onDisk, damaged)
  })
  queues.set(folder, update.catch(() => undefined))
  const index = await update
  const hasBin = existsSync(store.bin)
  const unserved = [...new Map(wanted.flat().filter((p) => !hasBin || index[p.key] === undefined).map((p) => [p.key, p])).values()]
  const unservedBytes = unserved.reduce((n, p) => n + p.codes.external.length + (p.scales?.external.length ?? 0), 0)
  const unservedReason = unserved.length === 0 ? undefined : (unwritable.get(folder) ?? (existsSync(store.lock) ? lockedReason(store) : "the store could not make them"))
  const remade = damaged.every((key) => index[key] !== undefined)
  const damage = damaged.length === 0 ? undefined : `the pre-packed weight store ${store.bin} is damaged: ${damaged.length} of its entries do not match the checksums recorded when they were written; ${remade ? "they were made again" : "sessions pre-pack those weights in their own memory instead, and a run that can write the store makes them again"}`
  const warning = [damage, problem].filter((w) => w !== undefined).join("; ")
  const said = { ...(warning !== "" ? { problem: warning } : {}), unservedBytes, ...(unservedReason !== undefined ? { unservedReason } : {}) }
  if (!hasBin) return { models, ...said }
  const served = models.map((model, m) => {
    // Per codes initializer, the entries of each kernel that reads it (one per distinct attributes).
    const byCodes = new Map<string, Map<string, Entry>>()
    for (const p of wanted[m]!) {
      const entry = index[p.key]
      if (entry === undefined) continue
      const entries = byCodes.get(p.codes.name) ?? new Map<string, Entry>()
      byCodes.set(p.codes.name, entries.set(p.key, entry))
    }
    if (byCodes.size === 0) return model
    return { ...model, graph: { ...model.graph, initializers: model.graph.initializers.map((t) => (byCodes.has(t.name) ? fromStore(store, t, [...byCodes.get(t.name)!.values()]) : t)) } }
  })
  const tiled = wanted.map((packs) => new Map(packs.flatMap((p) => {
    const at = index[p.key]?.tiled
    return at === undefined ? [] : [[p.codes.name, { file: store.file, ...at }] as const]
  })))
  return { models: served, ...said, tiled }
}
