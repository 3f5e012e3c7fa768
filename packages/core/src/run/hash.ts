/**
 * Content hashing for the run engine: canonical JSON (stable key order), stage
 * cache keys and output hashes. Everything is sha256 hex.
 */
import { createHash, type Hash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"

/**
 * JSON with object keys sorted at every level, so equal data always hashes the same.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) // '{"a":[2,{"c":4,"d":3}],"b":1}'
 * ```
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const entries = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
  return `{${entries.join(",")}}`
}

/** sha256 hex of a string or bytes. */
export const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

/** The most bytes {@link hashFileBytes} holds at once. */
const hashChunkBytes = 8 << 20

/**
 * Feeds the bytes of the open file `fd` from `offset` into `hash`: `length` of them, or up to the
 * file's end when `length` is left out. Reads a piece at a time (at most 8 MiB), so a file of any size
 * is never held whole; `onChunk` sees each piece after the hash. Returns the bytes read: fewer than
 * `length` when the file ends first (the caller decides what a short file means).
 *
 * @example
 * ```ts
 * import { createHash } from "node:crypto"
 * import * as fs from "node:fs"
 * import { hashFileBytes } from "@refine-af/core"
 * const hash = createHash("sha256")
 * const fd = fs.openSync("model.safetensors", "r")
 * try { hashFileBytes(hash, fd) } finally { fs.closeSync(fd) }
 * hash.digest("hex")
 * ```
 */
export const hashFileBytes = (hash: Hash, fd: number, offset = 0, length?: number, onChunk?: (chunk: Buffer) => void): number => {
  const wanted = length ?? Math.max(0, fs.fstatSync(fd).size - offset)
  if (wanted <= 0) return 0
  const buffer = Buffer.allocUnsafe(Math.min(wanted, hashChunkBytes))
  let done = 0
  // Past `wanted` (a file that grew while read to its end) the reads go on: what is hashed is what is there.
  for (;;) {
    const want = length === undefined ? buffer.length : Math.min(buffer.length, length - done)
    if (want <= 0) break
    const read = fs.readSync(fd, buffer, 0, want, offset + done)
    if (read <= 0) break
    const chunk = buffer.subarray(0, read)
    hash.update(chunk)
    onChunk?.(chunk)
    done += read
  }
  return done
}

/** Everything that decides a stage's output; the cache key is its hash. */
export interface StageKeyParts {
  readonly componentId: string
  /** The component's own version, or its plugin's package version. */
  readonly version: string
  readonly rawOptions: unknown
  /** Input port → upstream output hash (a list port: the hashes of its stages, in order). */
  readonly inputs: Readonly<Record<string, string | ReadonlyArray<string>>>
  readonly seed: number
  /** Resource slot → resource identity (see `resourceIdentity`). */
  readonly resources: Readonly<Record<string, string>>
  /** Path option (dotted) → content id of the file or folder it names (left out when there are none). */
  readonly contents?: Readonly<Record<string, string>>
}

/** Cache key of a stage: sha256 of the canonical JSON of its key parts. */
export const stageCacheKey = (parts: StageKeyParts): string => sha256(canonicalJson({ cacheKeyVersion: 1, ...parts }))

/**
 * Identity of a resource: its component, version, options, (recursively) the
 * resources it uses, and the output hashes of the stages it is built from.
 */
export const resourceIdentity = (parts: {
  readonly componentId: string
  readonly version: string
  readonly rawOptions: unknown
  readonly uses: Readonly<Record<string, string>>
  /** Input port → output hash of the stage it names (left out when the resource has no ports). */
  readonly inputs?: Readonly<Record<string, string>>
  /** Path option (dotted) → content id (left out when there are none). */
  readonly contents?: Readonly<Record<string, string>>
}): string => sha256(canonicalJson(parts))

/** Files of a stage folder that are bookkeeping, not output: excluded from the output hash. */
export const isBookkeepingFile = (relativePath: string): boolean =>
  relativePath.startsWith(".") || relativePath.includes("/.") || relativePath.endsWith(".tmp")

/** Relative paths of every output file under `dir`, sorted (bookkeeping files excluded). */
export const listOutputFiles = (dir: string): Array<string> => {
  const found: Array<string> = []
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`
      if (isBookkeepingFile(child)) continue
      if (entry.isDirectory()) walk(child)
      else if (entry.isFile()) found.push(child)
    }
  }
  if (fs.existsSync(dir)) walk("")
  return found.sort()
}

/**
 * Output hash of a finished stage folder: sha256 over every output file's
 * relative path, byte length and contents, in sorted path order.
 */
export const hashStageDir = (dir: string): string => {
  const hash = createHash("sha256")
  // Read in pieces: artifacts (adapters, merged weights) can be larger than a Buffer may be.
  for (const relative of listOutputFiles(dir)) {
    const fd = fs.openSync(path.join(dir, relative), "r")
    try {
      hash.update(`${relative}\0${fs.fstatSync(fd).size}\0`)
      hashFileBytes(hash, fd)
    } finally {
      fs.closeSync(fd)
    }
  }
  return hash.digest("hex")
}
