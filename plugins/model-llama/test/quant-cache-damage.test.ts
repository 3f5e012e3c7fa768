/**
 * The quantised-weight cache checks its content, not only its header
 * (src/quant/content-checksum.ts, verified-stamp.ts): data bytes overwritten
 * in place are found at the next load, which names the file and rewrites it
 * (the same weights as a clean cache); an unchanged file is read in full once
 * after it was written, not at every load; a file that records no checksum
 * (written before it did) is a miss.
 */
import { createHash } from "node:crypto"
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { openSafetensors, writeSafetensors } from "@refine-af/models"
import { Effect } from "effect"
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest"
import { loadLlama, quantCacheFile, type WeightPrecision } from "../src/index.ts"
import * as checksums from "../src/quant/content-checksum.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

// Counts the full reads of a cache file's content (the expensive check).
vi.mock("../src/quant/content-checksum.ts", async (original) => {
  const actual = await original<typeof import("../src/quant/content-checksum.ts")>()
  return { ...actual, checksumOfFile: vi.fn(actual.checksumOfFile) }
})
const fullReads = () => vi.mocked(checksums.checksumOfFile).mock.calls.length
beforeEach(() => {
  vi.mocked(checksums.checksumOfFile).mockClear()
})

const roots: Array<string> = []
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })))
const freshRoot = () => {
  const root = mkdtempSync(nodePath.join(tmpdir(), "quant-cache-damage-"))
  roots.push(root)
  return root
}

/** Loads the tiny llama at `precision` with the cache under `cacheRoot`: what the cache did and every weight's bytes. */
const load = (precision: WeightPrecision, cacheRoot: string) =>
  runScoped(Effect.gen(function* () {
    const loaded = yield* loadLlama(tinyModel("llama"), yield* cpuBackend, { contextLength: 64, maxBatch: 2, precision: { precision, cacheRoot } })
    // Each weight's bytes as a digest: the tiny model's weights are too many numbers to compare one by one.
    const bytes: Record<string, string> = {}
    const digest = (...views: Array<ArrayBufferView>) => views.reduce((h, v) => h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)), createHash("sha256")).digest("hex")
    for (const [name, w] of Object.entries(loaded.runtime.quantised)) if (w.scheme !== "float16") bytes[name] = digest(w.codes, w.scales)
    for (const [name, t] of Object.entries(loaded.runtime.weights)) bytes[name] = digest(t.data)
    return { cache: loaded.quantCache, damaged: loaded.quantCacheDamaged, bytes }
  }))

const cacheFileIn = (cacheRoot: string) => quantCacheFile(nodePath.join(cacheRoot, readdirSync(cacheRoot)[0]!))

/** Overwrites the first 4 bytes of every 64 of each tensor's data with float32 0.37 (in place: the header is intact). */
const damageData = (file: string) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const { header } = yield* openSafetensors(file)
    const bytes = readFileSync(file)
    for (const t of header.tensors.values()) for (let at = t.begin; at + 4 <= t.end; at += 64) bytes.writeFloatLE(0.37, at)
    // Written over the data section in place, as `open(p, 'r+b').write(...)` would: same inode, header untouched.
    const fd = openSync(file, "r+")
    try {
      writeSync(fd, bytes, header.dataStart, bytes.length - header.dataStart, header.dataStart)
    } finally {
      closeSync(fd)
    }
  })))

describe("quantised-weight cache: content checked", () => {
  it.each(["int4", "float32"] as const)("%s: damaged data is found, named and rewritten (the same weights as a clean cache); an unchanged file is read in full once", async (precision) => {
    const root = freshRoot()
    const clean = await load(precision, root)
    expect(clean.cache).toBe("written")
    // Written from memory: the file is not read back while writing.
    expect(fullReads()).toBe(0)
    const first = await load(precision, root)
    expect(first.cache).toBe("hit")
    expect(fullReads()).toBe(1)
    const second = await load(precision, root)
    expect(second.cache).toBe("hit")
    // Unchanged since it was verified: trusted from its stamp.
    expect(fullReads()).toBe(1)
    expect(second.bytes).toEqual(clean.bytes)

    const file = cacheFileIn(root)
    await damageData(file)
    const damaged = await load(precision, root)
    expect(damaged.cache).toBe("written")
    expect(damaged.damaged).toContain(file)
    expect(damaged.damaged).toMatch(/damaged/)
    expect(damaged.bytes).toEqual(clean.bytes)
    const after = await load(precision, root)
    expect(after.cache).toBe("hit")
    expect(after.damaged).toBeUndefined()
    expect(after.bytes).toEqual(clean.bytes)
  }, 120_000)

  it("a cache file that records no checksum (written before the cache did) is a miss: rewritten, the same weights", async () => {
    const root = freshRoot()
    const clean = await load("int8", root)
    const file = cacheFileIn(root)
    // The same tensors and metadata, without the checksum.
    await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const source = yield* openSafetensors(file)
      const tensors = []
      for (const t of source.header.tensors.values()) tensors.push({ name: t.name, dtype: t.dtype, shape: t.shape, data: yield* source.readBytes(t.name) })
      const { [checksums.CHECKSUM_KEY]: _checksum, ...metadata } = source.header.metadata
      yield* writeSafetensors(`${file}.old`, tensors, metadata)
    })))
    renameSync(`${file}.old`, file)
    const older = await load("int8", root)
    expect(older.cache).toBe("written")
    expect(older.damaged).toBeUndefined()
    expect(older.bytes).toEqual(clean.bytes)
    expect((await load("int8", root)).cache).toBe("hit")
  }, 120_000)
})
