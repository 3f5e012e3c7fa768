/**
 * What a cache folder holds, and pruning it (`refine-af cache`, `refine-af cache prune`).
 *
 * A run's cache folder (`.refine-af/cache` by default) gathers, side by side:
 * - finished stage outputs, one folder per cache key (`<64 hex>/` with `.meta.json`);
 * - plugins' own caches: model weights kept for mapping or at reduced precision
 *   (`quant/<model>/`, often GBs each), scorer results (`scores/*.jsonl`), content ids of
 *   input files (`content-ids/`);
 * - temporary folders of stage outputs being published (`.tmp-*`; left behind by a killed run);
 * - anything else a plugin put there.
 *
 * Every item has a last use: a stage output's is when a run last restored it (a cache hit
 * touches its `.meta.json`) or made it; another item's is the latest access or change of its
 * files. Pruning removes whole items, never part of one: items last used before a cut-off,
 * then, for a size limit, the least recently used first. A stage output is first renamed out of
 * its key (a run that looks it up meanwhile misses it and runs the stage) and then deleted. Runs
 * are unaffected: their folders hold their own links to the files.
 *
 * @example
 * ```ts
 * import { listCache, pruneCache } from "@refine-af/core"
 * const items = listCache(".refine-af/cache")
 * const { removed } = pruneCache(".refine-af/cache", { olderThanMs: 30 * 86_400_000 })
 * ```
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { cacheMetaFileName } from "./cache.ts"

/** What kind of thing a cache item is. */
export type CacheItemKind = "stage" | "weights" | "scores" | "content-ids" | "temp" | "other"

/** One removable unit of a cache folder. */
export interface CacheItem {
  readonly kind: CacheItemKind
  /** Path relative to the cache folder. */
  readonly path: string
  /** The component of a stage output; the model folder name of weights; the file of scores. */
  readonly label: string
  readonly bytes: number
  /** Bytes of its files that other folders link too (a run folder's copy of a stage output): removing the item does not free them. */
  readonly linkedBytes: number
  readonly files: number
  /** Milliseconds since the epoch. */
  readonly lastUsed: number
}

const stageKey = /^[0-9a-f]{64}$/

interface TreeStats {
  bytes: number
  linkedBytes: number
  files: number
  latest: number
}

/** Sizes of the files under `target` (a file or folder), and their latest access or change. */
const treeStats = (target: string): TreeStats => {
  const stats: TreeStats = { bytes: 0, linkedBytes: 0, files: 0, latest: 0 }
  const visit = (at: string) => {
    let info: fs.Stats
    try {
      info = fs.lstatSync(at)
    } catch {
      return
    }
    if (info.isDirectory()) {
      let names: Array<string> = []
      try {
        names = fs.readdirSync(at)
      } catch {
        return
      }
      // Only files count: a folder's own time changes when anything is added or removed in it.
      for (const name of names) visit(path.join(at, name))
      return
    }
    stats.bytes += info.size
    if (info.nlink > 1) stats.linkedBytes += info.size
    stats.files++
    stats.latest = Math.max(stats.latest, info.mtimeMs, info.atimeMs)
  }
  visit(target)
  return stats
}

const stageItem = (cacheDir: string, name: string): CacheItem => {
  const folder = path.join(cacheDir, name)
  const { bytes, linkedBytes, files, latest } = treeStats(folder)
  let label = "(unknown component)"
  let lastUsed = latest
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(folder, cacheMetaFileName), "utf8")) as { componentId?: unknown; createdAt?: unknown }
    if (typeof meta.componentId === "string") label = meta.componentId
    const created = typeof meta.createdAt === "string" ? Date.parse(meta.createdAt) : Number.NaN
    // A cache hit touches .meta.json: its mtime is the last use (its creation at the latest).
    lastUsed = Math.max(fs.statSync(path.join(folder, cacheMetaFileName)).mtimeMs, Number.isNaN(created) ? 0 : created)
  } catch {
    // No readable .meta.json: its files' latest time stands.
  }
  return { kind: "stage", path: name, label, bytes, linkedBytes, files, lastUsed }
}

const treeItem = (cacheDir: string, relative: string, kind: CacheItemKind, label: string): CacheItem => {
  const { bytes, linkedBytes, files, latest } = treeStats(path.join(cacheDir, relative))
  return { kind, path: relative, label, bytes, linkedBytes, files, lastUsed: latest }
}

const subItems = (cacheDir: string, folder: string, kind: CacheItemKind): Array<CacheItem> => {
  let names: Array<string> = []
  try {
    names = fs.readdirSync(path.join(cacheDir, folder))
  } catch {
    return []
  }
  return names.filter((name) => !name.startsWith(".trash-")).map((name) => treeItem(cacheDir, path.join(folder, name), kind, name))
}

/** Everything in the cache folder `cacheDir` as removable items (none when it does not exist), most recently used first. */
export const listCache = (cacheDir: string): Array<CacheItem> => {
  let names: Array<string> = []
  try {
    names = fs.readdirSync(cacheDir)
  } catch {
    return []
  }
  const items: Array<CacheItem> = []
  for (const name of names) {
    const full = path.join(cacheDir, name)
    if (name.startsWith(".trash-")) items.push(treeItem(cacheDir, name, "temp", "(being deleted)"))
    else if (name.startsWith(".tmp-")) items.push(treeItem(cacheDir, name, "temp", "(a stage output being published, or left by a killed run)"))
    else if (stageKey.test(name) && fs.existsSync(path.join(full, cacheMetaFileName))) items.push(stageItem(cacheDir, name))
    else if (name === "quant") items.push(...subItems(cacheDir, name, "weights"))
    else if (name === "scores") items.push(...subItems(cacheDir, name, "scores"))
    else if (name === "content-ids") items.push(treeItem(cacheDir, name, "content-ids", "content ids of input files"))
    else items.push(treeItem(cacheDir, name, "other", name))
  }
  return items.sort((a, b) => b.lastUsed - a.lastUsed || (a.path < b.path ? -1 : 1))
}

/** How recent a temporary folder's last write must be for pruning to leave it alone (a run may be publishing it). */
export const IN_PROGRESS_MS = 3_600_000

/** What to prune. */
export interface PruneOptions {
  /** Remove items last used more than this long ago. */
  readonly olderThanMs?: number
  /** Then remove the least recently used items until the rest take at most this many bytes. */
  readonly maxBytes?: number
  /** List what would be removed, remove nothing. */
  readonly dryRun?: boolean
  /** "Now" (tests). */
  readonly now?: number
}

/** What pruning did (or, dry, would do). */
export interface PruneResult {
  readonly removed: ReadonlyArray<CacheItem>
  readonly kept: ReadonlyArray<CacheItem>
  /** Items that could not be removed, with why. */
  readonly failed: ReadonlyArray<{ readonly item: CacheItem; readonly reason: string }>
}

/** The items `options` selects for removal, from `items` (most recently used first, as `listCache` gives them). */
export const selectForPruning = (items: ReadonlyArray<CacheItem>, options: PruneOptions): { readonly remove: Array<CacheItem>; readonly keep: Array<CacheItem> } => {
  const now = options.now ?? Date.now()
  // A temporary folder written to within the hour is most likely a run publishing a stage output right now.
  const inProgress = (item: CacheItem) => item.kind === "temp" && item.lastUsed > now - IN_PROGRESS_MS
  const byAge = (item: CacheItem) => !inProgress(item) && options.olderThanMs !== undefined && item.lastUsed < now - options.olderThanMs
  const remove = items.filter(byAge)
  const keep = items.filter((item) => !byAge(item))
  if (options.maxBytes !== undefined) {
    let total = keep.reduce((sum, item) => sum + item.bytes, 0)
    // Least recently used first.
    const ordered = [...keep].filter((item) => !inProgress(item)).sort((a, b) => a.lastUsed - b.lastUsed || (a.path < b.path ? -1 : 1))
    for (const item of ordered) {
      if (total <= options.maxBytes) break
      remove.push(item)
      keep.splice(keep.indexOf(item), 1)
      total -= item.bytes
    }
  }
  return { remove, keep }
}

/** Removes one item: a stage output leaves its key by a rename first, so no run restores half of it. */
const removeItem = (cacheDir: string, item: CacheItem): void => {
  const target = path.join(cacheDir, item.path)
  if (item.kind === "stage") {
    const trash = path.join(cacheDir, `.trash-${item.path.slice(0, 16)}-${process.pid}-${randomBytes(3).toString("hex")}`)
    fs.renameSync(target, trash)
    fs.rmSync(trash, { recursive: true, force: true })
    return
  }
  fs.rmSync(target, { recursive: true, force: true })
}

/** Prunes `cacheDir` as `options` say (see the module doc). */
export const pruneCache = (cacheDir: string, options: PruneOptions): PruneResult => {
  const { remove, keep } = selectForPruning(listCache(cacheDir), options)
  if (options.dryRun === true) return { removed: remove, kept: keep, failed: [] }
  const removed: Array<CacheItem> = []
  const failed: Array<{ item: CacheItem; reason: string }> = []
  for (const item of remove) {
    try {
      removeItem(cacheDir, item)
      removed.push(item)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // Gone already (another prune, or a run that dropped a damaged entry): nothing left to do.
      if (code === "ENOENT") removed.push(item)
      else failed.push({ item, reason: code ?? String(error) })
    }
  }
  return { removed, kept: keep, failed }
}

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `30d`, `12h`, `90m`, `45s`, `2w` → milliseconds; undefined when `text` is not one. */
export const parseDuration = (text: string): number | undefined => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text)
  return match === null ? undefined : Number(match[1]) * units[match[2]!.toLowerCase()]!
}

const sizeUnits: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 }

/** `50GB`, `500 MB`, `2GiB`, `1024` (bytes) → bytes; undefined when `text` is not one. */
export const parseSize = (text: string): number | undefined => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text)
  return match === null ? undefined : Math.round(Number(match[1]) * sizeUnits[(match[2] ?? "b").toLowerCase()]!)
}
