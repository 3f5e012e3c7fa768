/**
 * Content ids of the files and folders path options name: sha256 over a file's
 * bytes, or over a folder's relative paths, sizes and bytes. Cheap when
 * nothing changed: the id is remembered with a stat signature (size, mtime,
 * inode of every file) in memory and, when a cache folder is given, on disk
 * (`<cacheDir>/content-ids/`); a full hash is computed only when the
 * signature changes.
 *
 * @example
 * ```ts
 * import { contentId } from "@refine-af/core"
 * const id = contentId("/models/tiny", ".refine-af/cache") // "sha256:..." or "missing"
 * ```
 */
import type { Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathOptions } from "../plugin/path-option.ts"
import { writeFileAtomic } from "./fs-atomic.ts"
import { hashFileBytes, sha256 } from "./hash.ts"

interface Entry {
  readonly relative: string
  readonly stat: fs.Stats
}

const listFiles = (root: string): Array<Entry> => {
  const stat = fs.statSync(root)
  if (!stat.isDirectory()) return [{ relative: "", stat }]
  const found: Array<Entry> = []
  const visit = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(root, relative), { withFileTypes: true })) {
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`
      if (entry.name.endsWith(".tmp")) continue
      const full = path.join(root, child)
      const childStat = fs.statSync(full)
      if (childStat.isDirectory()) visit(child)
      else if (childStat.isFile()) found.push({ relative: child, stat: childStat })
    }
  }
  visit("")
  return found.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0))
}

const signatureOf = (files: ReadonlyArray<Entry>): string =>
  sha256(files.map((file) => `${file.relative}\0${file.stat.size}\0${file.stat.mtimeMs}\0${file.stat.ctimeMs}\0${file.stat.ino}`).join("\n"))

const fullHash = (root: string, files: ReadonlyArray<Entry>): string => {
  const hash = createHash("sha256")
  for (const file of files) {
    hash.update(`${file.relative}\0${file.stat.size}\0`)
    const fd = fs.openSync(file.relative === "" ? root : path.join(root, file.relative), "r")
    try {
      hashFileBytes(hash, fd)
    } finally {
      fs.closeSync(fd)
    }
  }
  return `sha256:${hash.digest("hex")}`
}

const remembered = new Map<string, { readonly signature: string; readonly id: string }>()

const diskFile = (cacheDir: string, absolute: string) => path.join(cacheDir, "content-ids", `${sha256(absolute).slice(0, 32)}.json`)

const readDisk = (cacheDir: string | undefined, absolute: string) => {
  if (cacheDir === undefined) return undefined
  try {
    const parsed = JSON.parse(fs.readFileSync(diskFile(cacheDir, absolute), "utf8")) as { path?: unknown; signature?: unknown; id?: unknown }
    return parsed.path === absolute && typeof parsed.signature === "string" && typeof parsed.id === "string"
      ? { signature: parsed.signature, id: parsed.id }
      : undefined
  } catch {
    return undefined
  }
}

const writeDisk = (cacheDir: string | undefined, absolute: string, signature: string, id: string) => {
  if (cacheDir === undefined) return
  try {
    fs.mkdirSync(path.join(cacheDir, "content-ids"), { recursive: true })
    writeFileAtomic(diskFile(cacheDir, absolute), JSON.stringify({ path: absolute, signature, id }), { sync: false })
  } catch {
    // Only a speed-up: a read-only cache folder means hashing again next time.
  }
}

/** Number of full hashes computed (a test hook: unchanged content must not be hashed again). */
export const contentHashCount = { value: 0 }

/** The content id of the file or folder at `absolute` ("missing" when there is none). */
export const contentId = (absolute: string, cacheDir?: string): string => {
  if (!fs.existsSync(absolute)) return "missing"
  const files = listFiles(absolute)
  const signature = signatureOf(files)
  const known = remembered.get(absolute) ?? readDisk(cacheDir, absolute)
  if (known !== undefined && known.signature === signature) {
    remembered.set(absolute, known)
    return known.id
  }
  contentHashCount.value++
  const id = fullHash(absolute, files)
  remembered.set(absolute, { signature, id })
  writeDisk(cacheDir, absolute, signature, id)
  return id
}

/**
 * Content ids of every path option of a node (dotted option path → id), for
 * its identity; empty when the component declares no `RecipePath` option.
 */
export const optionContents = (
  schema: Schema.Top,
  options: unknown,
  recipeDir: string,
  cacheDir?: string
): Record<string, string> => {
  const contents: Record<string, string> = {}
  for (const option of pathOptions(schema, options, recipeDir)) contents[option.at.join(".")] = contentId(option.absolute, cacheDir)
  return contents
}

/** `{ contents }` when there is any, else nothing: identities of nodes without path options stay as they were. */
export const contentsPart = (contents: Readonly<Record<string, string>>): { readonly contents?: Readonly<Record<string, string>> } =>
  Object.keys(contents).length > 0 ? { contents } : {}
