/**
 * The content-addressed stage cache: `<cacheDir>/<cacheKey>/` holds a finished
 * stage folder (records, commit marker, artifacts) plus `.meta.json`. Entries
 * are published by renaming a complete temp folder, so a crash never leaves a
 * half entry under a real key. Files are hard-linked where possible (stage
 * outputs are never modified after they finish), copied otherwise.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { JsonRecord } from "../stage/context.ts"
import { hashStageDir } from "./hash.ts"

/** What the cache remembers about a stage output besides its files. */
export interface CacheMeta {
  readonly outputHash: string
  readonly records: number
  readonly componentId: string
  readonly metrics?: Readonly<Record<string, number>>
  readonly data?: JsonRecord
  /** Warnings the stage gave when it ran; a cache hit repeats them, so every run's report lists them. */
  readonly warnings?: ReadonlyArray<string>
  readonly createdAt: string
}

/** The file beside a cache entry's outputs that holds its `CacheMeta`; its time is the entry's last use (see `touchCacheEntry`). */
export const cacheMetaFileName = ".meta.json"

/**
 * Default cache folder: `$REFINE_AF_CACHE`, else `.refine-af/cache` under the
 * current working directory.
 */
export const defaultCacheDir = (): string =>
  process.env["REFINE_AF_CACHE"] !== undefined && process.env["REFINE_AF_CACHE"] !== ""
    ? path.resolve(process.env["REFINE_AF_CACHE"])
    : path.resolve(".refine-af", "cache")

const linkOrCopyTree = (from: string, to: string): void => {
  fs.mkdirSync(to, { recursive: true })
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name)
    const target = path.join(to, entry.name)
    if (entry.isDirectory()) linkOrCopyTree(source, target)
    else if (entry.isFile() && !entry.name.endsWith(".tmp")) {
      try {
        fs.linkSync(source, target)
      } catch {
        fs.copyFileSync(source, target)
      }
    }
  }
}

/** The cache entry for `key`, or undefined on a miss. */
export const lookupCache = (cacheDir: string, key: string): CacheMeta | undefined => {
  try {
    return JSON.parse(fs.readFileSync(path.join(cacheDir, key, cacheMetaFileName), "utf8")) as CacheMeta
  } catch {
    return undefined
  }
}

/**
 * Fills `stageDir` from the cache entry and checks its content hash. Returns
 * false (and drops the damaged entry) when the files do not match the hash.
 */
export const restoreFromCache = (cacheDir: string, key: string, meta: CacheMeta, stageDir: string): boolean => {
  fs.rmSync(stageDir, { recursive: true, force: true })
  try {
    linkOrCopyTree(path.join(cacheDir, key), stageDir)
  } catch (error) {
    // The entry went away while it was read (`refine-af cache prune`, or another run dropping it): a miss.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
    fs.rmSync(stageDir, { recursive: true, force: true })
    return false
  }
  fs.rmSync(path.join(stageDir, cacheMetaFileName), { force: true })
  if (hashStageDir(stageDir) === meta.outputHash) {
    touchCacheEntry(cacheDir, key)
    return true
  }
  fs.rmSync(stageDir, { recursive: true, force: true })
  fs.rmSync(path.join(cacheDir, key), { recursive: true, force: true })
  return false
}

/** Publishes a finished stage folder under `key` (no-op when the entry exists). */
export const storeInCache = (cacheDir: string, key: string, stageDir: string, meta: CacheMeta): void => {
  const target = path.join(cacheDir, key)
  if (fs.existsSync(target)) return
  fs.mkdirSync(cacheDir, { recursive: true })
  const temp = path.join(cacheDir, `.tmp-${key.slice(0, 16)}-${os.hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`)
  linkOrCopyTree(stageDir, temp)
  fs.writeFileSync(path.join(temp, cacheMetaFileName), JSON.stringify(meta, null, 2))
  try {
    fs.renameSync(temp, target)
  } catch {
    // Another run published the same key first: identical content, keep theirs.
    fs.rmSync(temp, { recursive: true, force: true })
  }
}

/** Marks the stage output under `key` as used now (a cache hit), for pruning by last use. Best effort. */
export const touchCacheEntry = (cacheDir: string, key: string): void => {
  try {
    const now = new Date()
    fs.utimesSync(path.join(cacheDir, key, cacheMetaFileName), now, now)
  } catch {
    // A read-only cache still serves hits; it just ages by creation.
  }
}
