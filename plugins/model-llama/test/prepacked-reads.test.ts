/**
 * Bound programs reading int4 weights from the decode steps' pre-packed blobs
 * (`CompileOptions.readPrepacked`, backend-onnx's runtime/prepacked-reads.ts):
 * with the quantised-weight cache and `quantised_binding: auto`, prefill,
 * scoring, training and reference programs read each int4 projection from the
 * blob the backend's store keeps for the decode steps instead of from the
 * cache's codes and scales. The same codes and scales, reordered: every result
 * must equal the run that reads the cache (`prepackedReads: false`) bit for
 * bit, and no live mapping of the cache file may cover an int4 weight's codes.
 * A job that only trains has no pre-packed form made.
 */
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { nllObjective, type TokenSequence } from "@refine-af/training"
import { Effect } from "effect"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { loadLlama, scoreSequences } from "../src/index.ts"
import { runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const cacheRoot = mkdtempSync(nodePath.join(tmpdir(), "prepacked-reads-"))
afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }))

const lora = { rank: 4, alpha: 8, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj", "down_proj"] }
const sft: TokenSequence = { tokens: [1, 17, 93, 250, 41, 300, 7, 120, 2], promptLength: 4 }
// Rows of 128 and 256 values: every projection is in units of 128 (prepacked-layout.ts).
const wide = { hidden_size: 128, intermediate_size: 256, head_dim: 32 }

/** Live mappings of this process: file path → [start offset, length] of each. */
const mappings = (): Map<string, Array<readonly [number, number]>> => {
  const out = new Map<string, Array<readonly [number, number]>>()
  for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
    const fields = line.trim().split(/\s+/)
    if (fields.length < 6) continue
    const [range, , offset] = fields
    const [start, end] = range!.split("-").map((h) => parseInt(h, 16)) as [number, number]
    const path = fields.slice(5).join(" ")
    out.set(path, [...(out.get(path) ?? []), [parseInt(offset!, 16), end - start] as const])
  }
  return out
}

const workload = (reads: boolean, set: Record<string, unknown>, blockSize = 32) =>
  runScoped(Effect.gen(function* () {
    const folder = tinyModel("llama", { set })
    const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false, prepackedReads: reads })
    const loaded = yield* loadLlama(folder, backend, { contextLength: 64, maxBatch: 4, quantisedBinding: "auto", precision: { precision: "int4", cacheRoot, blockSize } })
    const generated = yield* loaded.service.generate(["one two", "three four five"].map((prompt) => ({ prompt, params: { maxNewTokens: 6, temperature: 0 } })))
    const scores = yield* scoreSequences(loaded.runtime, [{ ids: sft.tokens, from: 4 }], 4)
    const session = yield* loaded.policy.session({ lora, seed: 3 })
    const losses: Array<number> = []
    for (let i = 0; i < 3; i++) losses.push((yield* session.step(nllObjective, [sft], {}, { lr: 0.02, clipGradNorm: 1 })).loss)
    const [reference] = yield* session.evaluate([sft], { reference: true })
    // Which int4 codes ranges of the cache file a live session still maps whole (a neighbour's mapping may share a page).
    const codes = Object.values(loaded.runtime.quantised).flatMap((w) => (w.scheme !== "float16" && w.stored !== undefined ? [{ file: nodePath.join(w.stored.folder, w.stored.file), from: w.stored.codesOffset, to: w.stored.codesOffset + w.codes.byteLength }] : []))
    const live = mappings()
    const mappedCodes = codes.filter((c) => (live.get(c.file) ?? []).some(([offset, length]) => offset <= c.from && offset + length >= c.to)).length
    const cacheFolder = nodePath.dirname(codes[0]!.file)
    const index = readdirSync(cacheFolder).find((name) => name.startsWith("prepacked-") && name.endsWith(".json"))
    const entries = index === undefined ? [] : Object.values((JSON.parse(readFileSync(nodePath.join(cacheFolder, index), "utf8")) as { entries: Record<string, { tiled?: unknown }> }).entries)
    return { tokens: generated.map((g) => g.tokenIds), scores, losses, reference: reference!.logprobs, mappedCodes, codes: codes.length, tiledEntries: entries.filter((e) => e.tiled !== undefined).length }
  }))

/** Whether this CPU's onnxruntime pre-packs int4 weights in the layout the backend reads (else it reads the codes: said). */
const layoutKnown = (run: { readonly tiledEntries: number }) => {
  if (run.tiledEntries === 0) console.log("onnxruntime's pre-packed int4 form on this CPU is not the layout backend-onnx reads (prepacked-layout.ts): bound programs read the cache's codes, and only the results are compared")
  return run.tiledEntries > 0
}

describe("int4 weights read from the decode steps' pre-packed blobs", () => {
  it.each([
    // Rows of 128 and 256 values: every projection (2 layers × 7) is read from its blob.
    ["rows of whole units", wide, 14, 32],
    // The same in blocks of 128 values (one scale per unit).
    ["rows of whole units, blocks of 128", wide, 14, 128],
    // The tiny preset's rows of 64 values: only down_proj's (128 values) are; the other 12 still from the cache.
    ["rows of 64 values (down_proj only)", {}, 2, 32]
  ] as const)("%s: the cache-reading run's results bit for bit, the blobs' codes not mapped from the cache", async (_name, set, fromBlob, blockSize) => {
    const fromCache = await workload(false, set, blockSize)
    const fromBlobs = await workload(true, set, blockSize)
    expect(fromBlobs.tokens).toEqual(fromCache.tokens)
    expect(fromBlobs.scores).toEqual(fromCache.scores)
    expect(fromBlobs.losses).toEqual(fromCache.losses)
    expect(fromBlobs.reference).toEqual(fromCache.reference)
    expect(fromCache.codes).toBe(14)
    // Reading the cache, a live session maps every projection's codes from it.
    expect(fromCache.mappedCodes).toBe(14)
    if (!layoutKnown(fromBlobs)) return
    expect(fromBlobs.tiledEntries).toBe(fromBlob)
    expect(fromBlobs.mappedCodes).toBe(14 - fromBlob)
  }, 300_000)
})

describe("a job that does not generate", () => {
  it("training alone reads the cache and has no pre-packed form made (none would be used)", async () => {
    const trained = await runScoped(Effect.gen(function* () {
      const folder = tinyModel("llama", { set: { ...wide, num_hidden_layers: 1 } })
      const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false })
      const loaded = yield* loadLlama(folder, backend, { contextLength: 64, maxBatch: 4, quantisedBinding: "auto", precision: { precision: "int4", cacheRoot } })
      const session = yield* loaded.policy.session({ lora, seed: 3 })
      const loss = (yield* session.step(nllObjective, [sft], {}, { lr: 0.02, clipGradNorm: 1 })).loss
      const folders = Object.values(loaded.runtime.quantised).flatMap((w) => (w.scheme !== "float16" && w.stored !== undefined ? [w.stored.folder] : []))
      return { loss, files: readdirSync(folders[0]!) }
    }))
    expect(Number.isFinite(trained.loss)).toBe(true)
    expect(trained.files.filter((name) => name.startsWith("prepacked-"))).toEqual([])
  }, 300_000)
})
