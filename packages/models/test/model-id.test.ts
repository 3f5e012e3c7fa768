import { createHash } from "node:crypto"
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adapterIdentity, configDescription, DIGEST_MEMO_FILE, loadModelFolder, modelIdentity } from "../src/index.ts"
import { tinyModel } from "./support/tiny-model.ts"

const scratch = mkdtempSync(nodePath.join(tmpdir(), "refine-af-model-id-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** Copies `source` to `<scratch>/<place>/<name>` and returns the copy's path. */
const copyTo = (source: string, place: string, name = "tiny-llama") => {
  const target = nodePath.join(scratch, place, name)
  cpSync(source, target, { recursive: true })
  return target
}
const idOf = (folder: string) => Effect.runPromise(Effect.flatMap(loadModelFolder(folder), modelIdentity))
const hashPart = (id: string) => id.slice(id.indexOf("#"))

describe("model identity", () => {
  let original = ""
  beforeAll(async () => {
    original = await tinyModel("llama")
  })

  it("is the same for copies of one folder at different paths, and names no path", async () => {
    const first = await idOf(copyTo(original, "machine-a/models"))
    const second = await idOf(copyTo(original, "elsewhere/deeper/b"))
    expect(first).toBe(second)
    expect(first).toMatch(/^llama:tiny-llama#[0-9a-f]{16}$/)
    expect(first).not.toContain(scratch)
    // A different folder name changes only the readable part.
    const renamed = await idOf(copyTo(original, "machine-c", "renamed"))
    expect(renamed.startsWith("llama:renamed#")).toBe(true)
    expect(hashPart(renamed)).toBe(hashPart(first))
  })

  it("differs for different weights under the same name and config", async () => {
    const base = await idOf(copyTo(original, "weights-a"))
    const otherSeed = await idOf(copyTo(await tinyModel("llama", { seed: 1 }), "weights-b"))
    expect(otherSeed).not.toBe(base)
    // One changed byte at the end of the weights (inside the last tensor) is enough.
    const edited = copyTo(original, "weights-c")
    const file = nodePath.join(edited, "model.safetensors")
    const bytes = readFileSync(file)
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1
    writeFileSync(file, bytes)
    expect(await idOf(edited)).not.toBe(base)
  })

  it("identifies adapters by content, not location", async () => {
    const write = (place: string, weights: string) => {
      const folder = nodePath.join(scratch, place, "my-adapter")
      cpSync(nodePath.join(original, "config.json"), nodePath.join(folder, "adapter_config.json"))
      writeFileSync(nodePath.join(folder, "adapter_model.safetensors"), weights)
      return Effect.runPromise(adapterIdentity(folder))
    }
    const first = await write("adapters-a", "weights one")
    expect(first).toMatch(/^\+adapter:my-adapter#[0-9a-f]{16}$/)
    expect(await write("adapters-b/x", "weights one")).toBe(first)
    expect(await write("adapters-c", "weights two")).not.toBe(first)
  })

  it("a digest memo folder remembers each file's SHA-256 for later processes, and a rewritten file is hashed again", async () => {
    const folder = copyTo(original, "memo-model")
    const memoDir = nodePath.join(scratch, "memo-cache", "quant")
    const memoFile = nodePath.join(memoDir, DIGEST_MEMO_FILE)
    const withMemo = () => Effect.runPromise(Effect.flatMap(loadModelFolder(folder), (model) => modelIdentity(model, { digestMemo: memoDir })))
    const plain = await idOf(folder)
    // The first load hashes and writes the memo (the folder is made): the id is the one without a memo.
    expect(await withMemo()).toBe(plain)
    const memo = JSON.parse(readFileSync(memoFile, "utf8")) as Record<string, string>
    const weights = nodePath.join(folder, "model.safetensors")
    const weightsDigest = createHash("sha256").update(readFileSync(weights)).digest("hex")
    expect(Object.values(memo)).toContain(weightsDigest)
    expect(Object.keys(memo)).toHaveLength(2)
    // What the memo says is what is used: a wrong digest recorded for the unchanged file gives another id.
    const weightsKey = Object.keys(memo).find((key) => memo[key] === weightsDigest)!
    expect(weightsKey.endsWith(`:${weights}`)).toBe(true)
    writeFileSync(memoFile, JSON.stringify({ ...memo, [weightsKey]: "0".repeat(64) }))
    expect(await withMemo()).not.toBe(plain)
    // Rewriting the file (same bytes even) changes its change time: hashed again, the memo corrected, the id right.
    writeFileSync(weights, readFileSync(weights))
    expect(await withMemo()).toBe(plain)
    const after = JSON.parse(readFileSync(memoFile, "utf8")) as Record<string, string>
    expect(Object.values(after).filter((digest) => digest === weightsDigest)).toHaveLength(1)
    expect(Object.values(after)).not.toContain("0".repeat(64))
    // A damaged memo is as good as none: the id is right and the memo rewritten whole.
    writeFileSync(memoFile, "{ not json")
    expect(await withMemo()).toBe(plain)
    expect(Object.values(JSON.parse(readFileSync(memoFile, "utf8")) as Record<string, string>)).toContain(weightsDigest)
  })

  it("fails with a typed error when a weight file cannot be read", async () => {
    const broken = copyTo(original, "broken")
    const model = await Effect.runPromise(loadModelFolder(broken))
    rmSync(nodePath.join(broken, "model.safetensors"))
    const error = await Effect.runPromise(Effect.flip(modelIdentity(model)))
    expect(error._tag).toBe("SafetensorsIoError")
  })
})

describe("model identity across versions", () => {
  // Stage outputs and weight caches are keyed by these ids: a release that changes the id of an unchanged
  // model orphans every cache of it (hours of a paper run). The committed speaker folder's id, computed by
  // the code of session 31 (1cdbe83), before the parsed config gained `qkNorm` (qwen3, olmo2) and `postNorms` (olmo2).
  it("the committed speaker model keeps the id it had before the parsed config grew qwen3's and olmo2's fields", async () => {
    const speaker = nodePath.resolve(import.meta.dirname, "../../../plugins/model-llama/models/speaker")
    expect(await idOf(copyTo(speaker, "speaker-id", "speaker"))).toBe("llama:speaker#1e022ef29ce9a8ce")
  })
  it("a field added later enters the description only where it changes the model", () => {
    expect(configDescription({ numLayers: 2, qkNorm: false, postNorms: false, nopeLayers: [], multipliers: null })).toBe(`{"numLayers":2}`)
    expect(configDescription({ numLayers: 2, multipliers: { embedding: 12 } })).toBe(`{"numLayers":2,"multipliers":{"embedding":12}}`)
    expect(configDescription({ numLayers: 2, qkNorm: false, nopeLayers: [1] })).toBe(`{"numLayers":2,"nopeLayers":[1]}`)
    expect(configDescription({ numLayers: 2, qkNorm: "head", postNorms: false })).toBe(`{"numLayers":2,"qkNorm":"head"}`)
    expect(configDescription({ numLayers: 2, qkNorm: "projection", postNorms: true })).toBe(`{"numLayers":2,"qkNorm":"projection","postNorms":true}`)
  })
})
