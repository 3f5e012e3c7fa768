/**
 * `refine-af cache` shows what the cache folder holds (stage outputs by component, model weight
 * caches, scorer caches, leftovers of killed runs) with sizes and last use;
 * `refine-af cache prune` removes what was last used before `--older-than`, then the least
 * recently used until the rest fit `--max-size` (`--all`: everything; `--dry-run`: only say).
 * Run folders keep their own links to their files, so pruning never changes a run's outputs; a
 * later run misses what was pruned and makes it again.
 */
import { Console, Effect, Option, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { listCache, parseDuration, parseSize, pruneCache, type CacheItem, type CacheItemKind } from "@refine-af/core"
import { formatBytes } from "@refine-af/models"
import { cacheDirFlag, chosenCacheFolder } from "./run.ts"
import { cliCommand } from "../invocation.ts"

/** A prune request that says nothing to prune, or says it in a form we do not read: a usage error (exit 2). */
export class InvalidPruneRequest extends Schema.TaggedError<InvalidPruneRequest>()("InvalidPruneRequest", {
  message: Schema.String,
  fix: Schema.String
}) {}

const kindNames: Record<CacheItemKind, string> = {
  stage: "stage outputs",
  weights: "model weights",
  scores: "scorer results",
  "content-ids": "content ids",
  temp: "unfinished / left by killed runs",
  other: "other"
}

/** "just now", "5 min ago", "3 h ago", "12 days ago". */
export const formatAge = (lastUsed: number, now: number = Date.now()): string => {
  if (lastUsed <= 0) return "never"
  const seconds = Math.max(0, (now - lastUsed) / 1000)
  if (seconds < 60) return "just now"
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`
  const days = Math.floor(seconds / 86_400)
  return `${days} day${days === 1 ? "" : "s"} ago`
}

const total = (items: ReadonlyArray<CacheItem>) => items.reduce((sum, item) => sum + item.bytes, 0)
const linked = (items: ReadonlyArray<CacheItem>) => items.reduce((sum, item) => sum + item.linkedBytes, 0)
/** " (X of it also in run folders)" when some of the bytes are hard links that removal does not free. */
const linkedNote = (items: ReadonlyArray<CacheItem>) => (linked(items) === 0 ? "" : ` (${formatBytes(linked(items))} of it also in run folders: not freed by removal)`)
const count = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`

const itemLine = (item: CacheItem, now: number) =>
  `  ${formatBytes(item.bytes).padStart(9)}  ${formatAge(item.lastUsed, now).padEnd(13)}  ${item.kind.padEnd(11)}  ${item.label}  (${item.path})`

/** The `cache` summary: one line per kind, then the largest items (every item with `all`). */
export const formatCacheListing = (folder: string, items: ReadonlyArray<CacheItem>, options: { readonly all?: boolean; readonly now?: number } = {}): string => {
  const now = options.now ?? Date.now()
  if (items.length === 0) return `${folder}: empty (nothing cached yet, or no such folder)`
  const lines = [`${folder}: ${count(items.length, "item")}, ${formatBytes(total(items))}${linkedNote(items)}`, ""]
  const kinds = [...new Set(items.map((item) => item.kind))]
  const width = Math.max(...kinds.map((kind) => kindNames[kind].length))
  for (const kind of kinds) {
    const ofKind = items.filter((item) => item.kind === kind)
    const newest = Math.max(...ofKind.map((item) => item.lastUsed))
    const oldest = Math.min(...ofKind.map((item) => item.lastUsed))
    lines.push(`  ${kindNames[kind].padEnd(width)}  ${String(ofKind.length).padStart(5)}  ${formatBytes(total(ofKind)).padStart(9)}  last used ${formatAge(newest, now)}${ofKind.length > 1 ? ` … ${formatAge(oldest, now)}` : ""}`)
  }
  const shown = options.all === true ? [...items] : [...items].sort((a, b) => b.bytes - a.bytes).slice(0, 10)
  lines.push("", options.all === true ? "every item, most recently used first:" : "largest items:", ...shown.map((item) => itemLine(item, now)))
  if (options.all !== true && items.length > shown.length) lines.push(`  … and ${items.length - shown.length} more (--all lists every item)`)
  lines.push("", `free space: ${cliCommand()} cache prune --older-than 30d (or --max-size 50GB, or --all); --dry-run shows what would go`)
  return lines.join("\n")
}

const listCommandAction = Effect.fnUntraced(function*({ cacheDir, all }: { readonly cacheDir: Option.Option<string>; readonly all: boolean }) {
  const folder = chosenCacheFolder(cacheDir).path
  yield* Console.log(formatCacheListing(folder, listCache(folder), { all }))
})

/** The prune summary. */
export const formatPruneResult = (folder: string, result: ReturnType<typeof pruneCache>, dryRun: boolean, now: number = Date.now()): string => {
  const verb = dryRun ? "would remove" : "removed"
  const shared = linked(result.removed)
  const freeing = shared === 0 ? "" : `; ${dryRun ? "it would free" : "that freed"} ${formatBytes(total(result.removed) - shared)}, the rest being also in run folders`
  const lines = [`${folder}: ${verb} ${count(result.removed.length, "item")} (${formatBytes(total(result.removed))}${freeing}); ${dryRun ? "would keep" : "kept"} ${count(result.kept.length, "item")} (${formatBytes(total(result.kept))})`]
  const shown = result.removed.slice(0, 20)
  lines.push(...shown.map((item) => itemLine(item, now)))
  if (result.removed.length > shown.length) lines.push(`  … and ${result.removed.length - shown.length} more`)
  for (const { item, reason } of result.failed) lines.push(`  could not remove ${item.path}: ${reason}`)
  return lines.join("\n")
}

const pruneCommand = Command.make(
  "prune",
  {
    cacheDir: cacheDirFlag,
    olderThan: Flag.String("older-than").pipe(Flag.withDescription("Remove what was last used longer ago than this: 30d, 12h, 90m, 2w"), Flag.optional),
    maxSize: Flag.String("max-size").pipe(Flag.withDescription("Then remove the least recently used until the rest take at most this: 50GB, 500MB, 2GiB"), Flag.optional),
    all: Flag.Boolean("all").pipe(Flag.withDescription("Remove everything in the cache folder (but a stage output a run is publishing: a temporary folder written within the hour)"), Flag.withDefault(false)),
    dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("Say what would be removed; remove nothing"), Flag.withDefault(false))
  },
  Effect.fnUntraced(function*({ cacheDir, olderThan, maxSize, all, dryRun }) {
    const folder = chosenCacheFolder(cacheDir).path
    const olderThanMs = Option.isSome(olderThan) ? parseDuration(olderThan.value) : undefined
    if (Option.isSome(olderThan) && olderThanMs === undefined) {
      return yield* new InvalidPruneRequest({ message: `--older-than ${olderThan.value} is not a duration`, fix: "give a number and a unit: s, m, h, d or w (e.g. --older-than 30d)" })
    }
    const maxBytes = Option.isSome(maxSize) ? parseSize(maxSize.value) : undefined
    if (Option.isSome(maxSize) && maxBytes === undefined) {
      return yield* new InvalidPruneRequest({ message: `--max-size ${maxSize.value} is not a size`, fix: "give a number and a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (e.g. --max-size 50GB)" })
    }
    if (!all && olderThanMs === undefined && maxBytes === undefined) {
      return yield* new InvalidPruneRequest({ message: "cache prune needs to know what to remove", fix: "pass --older-than <age> (e.g. 30d), --max-size <size> (e.g. 50GB) or --all; add --dry-run to see first" })
    }
    const result = pruneCache(folder, all ? { olderThanMs: -Infinity, dryRun } : { ...(olderThanMs === undefined ? {} : { olderThanMs }), ...(maxBytes === undefined ? {} : { maxBytes }), dryRun })
    yield* Console.log(formatPruneResult(folder, result, dryRun))
  })
).pipe(
  Command.withDescription("Remove cached items by last use (--older-than), to a size (--max-size), or all of them; run folders are not touched"),
  Command.withExamples([
    { command: "refine-af cache prune --older-than 30d --dry-run", description: "See what has not been used for 30 days" },
    { command: "refine-af cache prune --max-size 50GB", description: "Keep the most recently used 50 GB" }
  ])
)

/** `refine-af cache [--all]` and `refine-af cache prune ...`. */
export const cacheCommand = Command.make(
  "cache",
  {
    cacheDir: cacheDirFlag,
    all: Flag.Boolean("all").pipe(Flag.withDescription("List every item, not only the largest"), Flag.withDefault(false))
  },
  listCommandAction
).pipe(
  Command.withDescription("What the cache folder holds (stage outputs, model weight caches, scorer caches) with sizes and last use; prune it"),
  Command.withSubcommands([pruneCommand])
)
