/**
 * How the Hub identifies file contents: LFS files by the SHA-256 of their
 * bytes (`lfs.oid`), other files by their git blob id (SHA-1 of
 * `"blob <size>\0"` + bytes, `oid`). A digest is computed while bytes stream
 * in, and can be seeded with the bytes already on disk when resuming.
 *
 * @example
 * ```ts
 * import { expectedDigest, makeDigest } from "./digest.ts"
 * const want = expectedDigest({ path: "config.json", size: 2, oid: "…" })
 * const digest = makeDigest(want.kind, 2)
 * digest.update(Buffer.from("{}"))
 * digest.hex() === want.hex
 * ```
 */
import { createHash, type Hash } from "node:crypto"
import { createReadStream } from "node:fs"

/** A file as the Hub lists it. */
export interface HubFile {
  readonly path: string
  readonly size: number
  /** Git blob id (SHA-1). */
  readonly oid?: string | undefined
  /** LFS pointer: SHA-256 and size of the real content. */
  readonly lfs?: { readonly oid: string; readonly size: number } | undefined
}

/** Which hash identifies a file, and its expected value (undefined when the listing gives none). */
export const expectedDigest = (file: HubFile): { kind: "sha256" | "git-sha1"; hex: string | undefined; size: number } =>
  file.lfs !== undefined ? { kind: "sha256", hex: file.lfs.oid, size: file.lfs.size } : { kind: "git-sha1", hex: file.oid, size: file.size }

/** A running hash of the chosen kind for a file of `size` bytes. */
export const makeDigest = (kind: "sha256" | "git-sha1", size: number): { update: (chunk: Uint8Array) => void; hex: () => string } => {
  const hash: Hash = createHash(kind === "sha256" ? "sha256" : "sha1")
  if (kind === "git-sha1") hash.update(`blob ${size}\0`)
  return { update: (chunk) => void hash.update(chunk), hex: () => hash.digest("hex") }
}

/** Feeds the first bytes of a file on disk into `update` (used when resuming). */
export const hashExisting = (path: string, update: (chunk: Uint8Array) => void): Promise<void> =>
  new Promise((resolve, reject) => {
    const stream = createReadStream(path)
    stream.on("data", (chunk) => update(chunk as Buffer))
    stream.on("end", () => resolve())
    stream.on("error", reject)
  })
