/**
 * Cache administration: what `refine-af cache` lists (items by kind, sizes, last use) and what
 * `cache prune` removes (by age, then least recently used to a size); a pruned stage output is
 * a miss for the next lookup, and a cache hit counts as a use.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { hashStageDir, listCache, lookupCache, parseDuration, parseSize, pruneCache, restoreFromCache, selectForPruning, storeInCache, type CacheItem } from "../../src/index.ts"
import { tempDir } from "./fixtures.ts"

const DAY = 86_400_000
const now = Date.parse("2026-12-06T12:00:00Z")

const write = (file: string, bytes: number, ageDays: number) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, Buffer.alloc(bytes, 1))
  const at = new Date(now - ageDays * DAY)
  fs.utimesSync(file, at, at)
}

/** A cache folder with one item of every kind, each last used a known number of days ago. */
const sampleCache = () => {
  const dir = tempDir("cache-admin")
  const stage = (key: string, component: string, ageDays: number, bytes: number) => {
    write(path.join(dir, key, "records.jsonl"), bytes, ageDays)
    fs.writeFileSync(path.join(dir, key, ".meta.json"), JSON.stringify({ outputHash: "h", records: 1, componentId: component, createdAt: new Date(now - 90 * DAY).toISOString() }))
    const at = new Date(now - ageDays * DAY)
    fs.utimesSync(path.join(dir, key, ".meta.json"), at, at)
  }
  stage("a".repeat(64), "self-instruct/bootstrap", 40, 1000)
  stage("b".repeat(64), "sft/lora", 2, 3000)
  write(path.join(dir, "quant", "llama_x-int4", "weights.safetensors"), 50_000, 10)
  write(path.join(dir, "quant", "llama_x-int4", "prepacked-1.bin"), 20_000, 1)
  write(path.join(dir, "scores", "judge.jsonl"), 500, 60)
  write(path.join(dir, "content-ids", "x.json"), 100, 0)
  write(path.join(dir, ".tmp-cccccccc-host-1-abc", "records.jsonl"), 700, 5)
  write(path.join(dir, "notes.txt"), 10, 100)
  return dir
}

const byPath = (items: ReadonlyArray<CacheItem>) => Object.fromEntries(items.map((item) => [item.path, item]))

describe("listCache", () => {
  it("lists each item with its kind, label, size and last use (a stage output's: its .meta.json), most recent first", () => {
    const dir = sampleCache()
    // A run folder's hard link to a stage output's file: its bytes are not freed by removing the entry.
    fs.linkSync(path.join(dir, "b".repeat(64), "records.jsonl"), path.join(tempDir("cache-admin-run"), "records.jsonl"))
    const items = listCache(dir)
    const found = byPath(items)
    expect([found["b".repeat(64)]!.linkedBytes, found["a".repeat(64)]!.linkedBytes]).toEqual([3000, 0])
    expect(Object.keys(found).sort()).toEqual([".tmp-cccccccc-host-1-abc", "a".repeat(64), "b".repeat(64), "content-ids", "notes.txt", path.join("quant", "llama_x-int4"), path.join("scores", "judge.jsonl")].sort())
    expect(found["a".repeat(64)]).toMatchObject({ kind: "stage", label: "self-instruct/bootstrap", bytes: 1000 + fs.statSync(path.join(dir, "a".repeat(64), ".meta.json")).size, files: 2 })
    expect(found[path.join("quant", "llama_x-int4")]).toMatchObject({ kind: "weights", label: "llama_x-int4", bytes: 70_000, files: 2 })
    expect(found[path.join("scores", "judge.jsonl")]).toMatchObject({ kind: "scores", bytes: 500 })
    expect(found[".tmp-cccccccc-host-1-abc"]!.kind).toBe("temp")
    expect(found["notes.txt"]!.kind).toBe("other")
    // Last use: a stage's .meta.json time (not its older creation), a folder's newest file.
    expect(Math.round((now - found["a".repeat(64)]!.lastUsed) / DAY)).toBe(40)
    expect(Math.round((now - found[path.join("quant", "llama_x-int4")]!.lastUsed) / DAY)).toBe(1)
    expect(items.map((item) => item.lastUsed)).toEqual([...items.map((item) => item.lastUsed)].sort((a, b) => b - a))
    expect(listCache(path.join(dir, "absent"))).toEqual([])
  })
})

describe("pruning", () => {
  it("selects by age, then the least recently used down to a size", () => {
    const items = listCache(sampleCache())
    const paths = (selected: ReadonlyArray<CacheItem>) => selected.map((item) => item.path).sort()
    expect(paths(selectForPruning(items, { olderThanMs: 30 * DAY, now }).remove)).toEqual(["a".repeat(64), "notes.txt", path.join("scores", "judge.jsonl")].sort())
    // To 5 KB: the weights (70 KB) must go; everything older than them goes first.
    const sized = selectForPruning(items, { maxBytes: 5000, now })
    expect(sized.keep.reduce((sum, item) => sum + item.bytes, 0)).toBeLessThanOrEqual(5000)
    const oldestKept = Math.min(...sized.keep.map((item) => item.lastUsed))
    for (const removed of sized.remove) expect(removed.lastUsed).toBeLessThanOrEqual(oldestKept)
    expect(paths(sized.remove)).toContain(path.join("quant", "llama_x-int4"))
    expect(selectForPruning(items, { now }).remove).toEqual([])
    // A temporary folder written within the hour is a stage output being published: never pruned, not even by --all.
    const publishing: CacheItem = { kind: "temp", path: ".tmp-live", label: "", bytes: 1e9, linkedBytes: 0, files: 1, lastUsed: now - 60_000 }
    expect(selectForPruning([...items, publishing], { olderThanMs: -Infinity, now }).keep).toEqual([publishing])
    expect(selectForPruning([...items, publishing], { maxBytes: 0, now }).keep).toEqual([publishing])
  })

  it("removes whole items (a dry run nothing); a pruned stage output is a cache miss", () => {
    const dir = sampleCache()
    const dry = pruneCache(dir, { olderThanMs: 30 * DAY, now, dryRun: true })
    expect(dry.removed).toHaveLength(3)
    expect(listCache(dir)).toHaveLength(7)
    expect(lookupCache(dir, "a".repeat(64))).toBeDefined()
    const done = pruneCache(dir, { olderThanMs: 30 * DAY, now })
    expect(done.failed).toEqual([])
    expect(done.removed.map((item) => item.path).sort()).toEqual(dry.removed.map((item) => item.path).sort())
    expect(lookupCache(dir, "a".repeat(64))).toBeUndefined()
    expect(fs.readdirSync(dir).filter((name) => name.startsWith(".trash-"))).toEqual([])
    expect(listCache(dir).map((item) => item.path).sort()).toEqual(done.kept.map((item) => item.path).sort())
    expect(pruneCache(dir, { olderThanMs: -Infinity, now }).kept).toEqual([])
    expect(listCache(dir)).toEqual([])
  })

  it("a cache hit marks the entry used; an entry pruned before it is read is a miss, not an error", () => {
    const cacheDir = tempDir("cache-admin-hit")
    const stageDir = tempDir("cache-admin-stage")
    fs.writeFileSync(path.join(stageDir, "records.jsonl"), "{}\n")
    const key = "d".repeat(64)
    storeInCache(cacheDir, key, stageDir, { outputHash: "unused", records: 1, componentId: "x/y", createdAt: new Date(now - 50 * DAY).toISOString() })
    const meta = lookupCache(cacheDir, key)!
    const old = new Date(now - 50 * DAY)
    fs.utimesSync(path.join(cacheDir, key, ".meta.json"), old, old)
    // The stored hash is not the folder's: restore refuses (damaged) and drops the entry; use the real one.
    const real = { ...meta, outputHash: hashStageDir(stageDir) }
    expect(restoreFromCache(cacheDir, key, real, tempDir("cache-admin-out"))).toBe(true)
    expect(Date.now() - fs.statSync(path.join(cacheDir, key, ".meta.json")).mtimeMs).toBeLessThan(60_000)
    pruneCache(cacheDir, { olderThanMs: -Infinity })
    expect(restoreFromCache(cacheDir, key, real, tempDir("cache-admin-out2"))).toBe(false)
  })
})

describe("durations and sizes", () => {
  it("reads 30d / 12h / 90m / 45s / 2w and 50GB / 500 MB / 2GiB / 1024; refuses the rest", () => {
    expect([parseDuration("30d"), parseDuration("12h"), parseDuration("90m"), parseDuration("45s"), parseDuration("2w"), parseDuration("1.5d")]).toEqual([30 * DAY, 12 * 3_600_000, 90 * 60_000, 45_000, 14 * DAY, 1.5 * DAY])
    expect([parseDuration("30"), parseDuration("d"), parseDuration("3x"), parseDuration("-1d")]).toEqual([undefined, undefined, undefined, undefined])
    expect([parseSize("50GB"), parseSize("500 MB"), parseSize("2GiB"), parseSize("1024"), parseSize("1.5kb")]).toEqual([50e9, 500e6, 2 * 2 ** 30, 1024, 1500])
    expect([parseSize("GB"), parseSize("5 parsecs"), parseSize("-5GB")]).toEqual([undefined, undefined, undefined])
  })
})
