import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { canonicalJson, hashFileBytes, hashStageDir, seededRandom, seedFor, stageCacheKey, stageSeed } from "../../src/index.ts"
import { tempDir } from "./fixtures.ts"

const baseParts = {
  componentId: "demo/lines",
  version: "0.1.0",
  rawOptions: { count: 10, lines: ["a", "b"] },
  inputs: { records: "abc" },
  seed: 42,
  resources: { model: "m1" }
}

describe("canonical JSON and cache keys", () => {
  it("does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }))
    expect(JSON.parse(canonicalJson({ b: 1, a: "x" }))).toEqual({ a: "x", b: 1 })
  })

  it("is stable for equal parts and changes when any part changes", () => {
    const key = stageCacheKey(baseParts)
    expect(stageCacheKey({ ...baseParts, rawOptions: { lines: ["a", "b"], count: 10 } })).toBe(key)
    const variants = [
      { ...baseParts, componentId: "demo/other" },
      { ...baseParts, version: "0.2.0" },
      { ...baseParts, rawOptions: { count: 11, lines: ["a", "b"] } },
      { ...baseParts, inputs: { records: "abd" } },
      { ...baseParts, seed: 43 },
      { ...baseParts, resources: { model: "m2" } }
    ]
    const keys = new Set(variants.map(stageCacheKey))
    expect(keys.size).toBe(variants.length)
    expect(keys.has(key)).toBe(false)
  })
})

describe("stage output hash", () => {
  it("covers output files, ignores bookkeeping, and matches an independent sha256", () => {
    const dir = tempDir("hash")
    fs.writeFileSync(path.join(dir, "records.jsonl"), '{"a":1}\n')
    fs.mkdirSync(path.join(dir, "sub"))
    fs.writeFileSync(path.join(dir, "sub", "report.json"), "{}")
    const expected = createHash("sha256")
      .update("records.jsonl\u00008\u0000").update('{"a":1}\n')
      .update("sub/report.json\u00002\u0000").update("{}")
      .digest("hex")
    expect(hashStageDir(dir)).toBe(expected)
    fs.writeFileSync(path.join(dir, ".records.commit"), "{}")
    fs.writeFileSync(path.join(dir, "x.json.123.tmp"), "junk")
    expect(hashStageDir(dir)).toBe(expected)
    fs.writeFileSync(path.join(dir, "sub", "report.json"), "{ }")
    expect(hashStageDir(dir)).not.toBe(expected)
  })
})

describe("stage output hash of large files", () => {
  it("hashes files larger than its read chunk like a one-shot sha256", () => {
    const dir = tempDir("hash-big")
    const bytes = Buffer.alloc((9 << 20) + 3)
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251
    fs.writeFileSync(path.join(dir, "adapter.bin"), bytes)
    const expected = createHash("sha256").update(`adapter.bin\u0000${bytes.length}\u0000`).update(bytes).digest("hex")
    expect(hashStageDir(dir)).toBe(expected)
  })
})

describe("hashFileBytes", () => {
  it("hashes a range, or to the end, in pieces like a one-shot sha256, and says when the file ends first", () => {
    const dir = tempDir("hash-bytes")
    const bytes = Buffer.alloc((17 << 20) + 5)
    for (let i = 0; i < bytes.length; i += 1021) bytes[i] = (i * 7) % 253
    const file = path.join(dir, "blob.bin")
    fs.writeFileSync(file, bytes)
    const fd = fs.openSync(file, "r")
    try {
      const digest = (offset?: number, length?: number) => {
        const hash = createHash("sha256")
        const read = hashFileBytes(hash, fd, offset, length)
        return { read, hex: hash.digest("hex") }
      }
      const oneShot = (part: Buffer) => createHash("sha256").update(part).digest("hex")
      expect(digest()).toEqual({ read: bytes.length, hex: oneShot(bytes) })
      expect(digest(12345)).toEqual({ read: bytes.length - 12345, hex: oneShot(bytes.subarray(12345)) })
      expect(digest(3, (9 << 20) + 1)).toEqual({ read: (9 << 20) + 1, hex: oneShot(bytes.subarray(3, 3 + (9 << 20) + 1)) })
      // Past the end: what is there is hashed, and the count says it was short.
      expect(digest(bytes.length - 10, 100)).toEqual({ read: 10, hex: oneShot(bytes.subarray(bytes.length - 10)) })
      expect(digest(bytes.length, undefined)).toEqual({ read: 0, hex: oneShot(Buffer.alloc(0)) })
      // Every piece reaches onChunk, in order.
      const pieces: Array<Buffer> = []
      hashFileBytes(createHash("sha256"), fd, 0, undefined, (chunk) => pieces.push(Buffer.from(chunk)))
      expect(pieces.length).toBeGreaterThan(1)
      expect(Buffer.concat(pieces).equals(bytes)).toBe(true)
    } finally {
      fs.closeSync(fd)
    }
  })
})

describe("seeds", () => {
  it("derives distinct, reproducible stage seeds and random streams", () => {
    expect(stageSeed(42, "a")).toBe(stageSeed(42, "a"))
    expect(stageSeed(42, "a")).not.toBe(stageSeed(42, "b"))
    expect(stageSeed(42, "a")).not.toBe(stageSeed(43, "a"))
    const draw = (seed: number) => { const random = seededRandom(seed); return [random(), random(), random()] }
    expect(draw(seedFor(1, 5))).toEqual(draw(seedFor(1, 5)))
    expect(draw(seedFor(1, 5))).not.toEqual(draw(seedFor(1, 6)))
    for (const value of draw(123)) expect(value >= 0 && value < 1).toBe(true)
  })
})
