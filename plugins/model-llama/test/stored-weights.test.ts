/**
 * Quantised weights read from the quantised-weight cache file. With a cache
 * and a backend that maps stored copies (`mapsStoredWeights`: the CPU onnx
 * backend), the runtime holds no codes of its own: programs that bind the
 * weights (prefill, scoring, LoRA training, reference) read them from the
 * file (`CompileOptions.readStored`), and nothing is uploaded. They must
 * compute exactly what the same weights uploaded and bound compute.
 */
import { makeOnnxBackend, storeSignature } from "@refine-af/backend-onnx"
import type { BackendService, HostTensor } from "@refine-af/tensor"
import { makeStepFeeds } from "@refine-af/models"
import { nllObjective, type TokenSequence } from "@refine-af/training"
import { Effect } from "effect"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs"
import { hostname, tmpdir } from "node:os"
import * as nodePath from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { loadLlama, makeLlamaRuntime, scoreSequences, zeroCaches, type LlamaRuntime, type QuantisedBinding, type WeightMode } from "../src/index.ts"
import { recordingDecodes, runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const cacheRoot = mkdtempSync(nodePath.join(tmpdir(), "stored-weights-"))
afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }))

const lora = { rank: 4, alpha: 8, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj", "down_proj"] }
const sft: TokenSequence = { tokens: [1, 17, 93, 250, 41, 300, 7, 120, 2], promptLength: 4 }

/** Generation, scoring, three LoRA steps and a reference pass on the int4 model; `uploads` counts uploadQuantised calls. */
const workload = (cached: boolean, binding: QuantisedBinding, mapCachedWeights?: boolean, precision: "int4" | "float32" = "int4", weightMode?: WeightMode, groupServedDecodes = false, decodeHead?: "prepacked" | "mapped", root = cacheRoot) =>
  runScoped(Effect.gen(function* () {
    const folder = tinyModel("llama")
    const onnx = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false })
    let uploads = 0
    // Uploads of tensors shaped like one of the float32 weights (embeddings, head, norms; no LoRA or optimizer tensor is).
    const float32Shapes = new Set<string>()
    let float32Uploads = 0
    // Decode-step compiles (one new token per row): whether they baked constants and joined a session group.
    const { spy, decodes: decodeCompiles } = recordingDecodes(onnx)
    const backend: BackendService = {
      ...spy,
      uploadQuantised: (weight) => (uploads++, onnx.uploadQuantised(weight)),
      upload: (tensor) => (float32Shapes.has(tensor.shape.join(",")) && float32Uploads++, onnx.upload(tensor))
    }
    const loaded = yield* loadLlama(folder, backend, { contextLength: 64, maxBatch: 4, quantisedBinding: binding, precision: { precision, ...(cached ? { cacheRoot: root } : {}) }, ...(mapCachedWeights === undefined ? {} : { mapCachedWeights }), ...(weightMode === undefined ? {} : { weightMode }), ...(groupServedDecodes ? { groupServedDecodes } : {}), ...(decodeHead === undefined ? {} : { decodeHead }) })
    for (const w of Object.values(loaded.runtime.weights)) float32Shapes.add(w.shape.join(","))
    const generated = yield* loaded.service.generate(["one two", "three four five"].map((prompt) => ({ prompt, params: { maxNewTokens: 6, temperature: 0 } })))
    const scores = yield* scoreSequences(loaded.runtime, [{ ids: sft.tokens, from: 4 }], 4)
    const session = yield* loaded.policy.session({ lora, seed: 3 })
    const losses: Array<number> = []
    for (let i = 0; i < 3; i++) losses.push((yield* session.step(nllObjective, [sft], {}, { lr: 0.02, clipGradNorm: 1 })).loss)
    const [reference] = yield* session.evaluate([sft], { reference: true })
    const stored = Object.values(loaded.runtime.quantised).filter((w) => w.scheme !== "float16" && w.stored !== undefined).length
    const storedFloat32 = Object.values(loaded.runtime.weights).filter((w) => w.stored !== undefined).length
    return { tokens: generated.map((g) => g.tokenIds), scores, losses, reference: reference!.logprobs, uploads, float32Uploads, stored, storedFloat32, cache: loaded.quantCache, logits: yield* lastLogits(loaded.runtime), decodeCompiles }
  }))

describe("quantised weights read from the cache file", () => {
  it("bound programs read the cache file instead of uploads, with exactly the uploaded weights' results (written, then read)", async () => {
    const uploaded = await workload(false, "shared")
    expect(uploaded.uploads).toBeGreaterThan(0)
    expect(uploaded.float32Uploads).toBeGreaterThan(0)
    expect(uploaded.stored).toBe(0)
    for (const cache of ["written", "hit"]) {
      const folder = () => nodePath.join(cacheRoot, readdirSync(cacheRoot).find((name) => name.includes("-int4-"))!)
      const before = cache === "hit" ? statSync(nodePath.join(folder(), "weights.safetensors")) : undefined
      const fromFile = await workload(true, "shared")
      expect(fromFile.cache).toBe(cache)
      if (before !== undefined) {
        // A hit is a use `refine-af cache prune` sees (.last-used), and the weights file is left as it was (its verified stamp holds).
        expect(statSync(nodePath.join(folder(), ".last-used")).mtimeMs).toBeGreaterThanOrEqual(before.mtimeMs)
        const after = statSync(nodePath.join(folder(), "weights.safetensors"))
        expect([after.mtimeMs, after.ctimeMs, after.ino]).toEqual([before.mtimeMs, before.ctimeMs, before.ino])
      }
      expect(fromFile.uploads).toBe(0)
      expect(fromFile.float32Uploads).toBe(0)
      expect(fromFile.stored).toBe(14) // 2 layers × 7 projections
      expect(fromFile.storedFloat32).toBe(7) // embeddings, head, 2 × 2 layer norms, final norm
      expect(fromFile.tokens).toEqual(uploaded.tokens)
      expect(fromFile.scores).toEqual(uploaded.scores)
      expect(fromFile.losses).toEqual(uploaded.losses)
      expect(fromFile.reference).toEqual(uploaded.reference)
    }
    // A truncated cache file is a miss: quantised again, rewritten, the same results.
    const [entry] = readdirSync(cacheRoot).filter((name) => name.includes("-int4-"))
    const file = nodePath.join(cacheRoot, entry!, "weights.safetensors")
    truncateSync(file, Math.floor(statSync(file).size / 2))
    const rewritten = await workload(true, "shared")
    expect(rewritten.cache).toBe("written")
    expect(rewritten.tokens).toEqual(uploaded.tokens)
    expect(rewritten.losses).toEqual(uploaded.losses)
  }, 300_000)

  it("with quantised_binding auto the decode steps bake (mapped) and everything else reads the file: the uncached run's results, no uploads", async () => {
    const uploaded = await workload(false, "auto")
    const fromFile = await workload(true, "auto")
    expect(fromFile.uploads).toBe(0)
    expect(fromFile.float32Uploads).toBe(0)
    expect(fromFile.tokens).toEqual(uploaded.tokens)
    expect(fromFile.scores).toEqual(uploaded.scores)
    expect(fromFile.losses).toEqual(uploaded.losses)
    expect(fromFile.reference).toEqual(uploaded.reference)
    // The decode steps' pre-packed forms went to the backend's store next to the cache file, one per projection and
    // one for the LM head (a float32 Gemm weight), and a run that reads them from there generates the same tokens.
    const [entry] = readdirSync(cacheRoot).filter((name) => name.includes("-int4-"))
    const index = readdirSync(nodePath.join(cacheRoot, entry!)).filter((name) => name.startsWith("prepacked-") && name.endsWith(".json"))
    expect(index).toHaveLength(1)
    expect(Object.keys((JSON.parse(readFileSync(nodePath.join(cacheRoot, entry!, index[0]!), "utf8")) as { entries: object }).entries)).toHaveLength(15)
    const again = await workload(true, "auto")
    expect(again.tokens).toEqual(uploaded.tokens)
    expect(again.losses).toEqual(uploaded.losses)
  }, 300_000)

  it("with quantised_binding auto and the cache, each decode step is a session of its own, pre-packed forms served from the store (a group where the store cannot serve them): the grouped steps' tokens and logits", async () => {
    const uploaded = await workload(false, "auto")
    const fromFile = await workload(true, "auto")
    const grouped = await workload(true, "auto", undefined, "int4", undefined, true)
    const view = (r: typeof uploaded) => r.decodeCompiles.map((d) => ({ batch: d.batch, baked: d.bakedQuantised, grouped: d.grouped }))
    // Without a cache the baked codes are in memory: the decode steps share one group (one pre-packed copy for all shapes).
    expect(uploaded.decodeCompiles.length).toBeGreaterThanOrEqual(2)
    expect(view(uploaded).every((d) => d.baked && d.grouped)).toBe(true)
    // Served from the store, each shape compiles alone (no group whose members all pre-pack again when one joins).
    expect(new Set(fromFile.decodeCompiles.map((d) => d.batch)).size).toBeGreaterThanOrEqual(2)
    expect(view(fromFile).every((d) => d.baked && !d.grouped)).toBe(true)
    expect(view(grouped).every((d) => d.baked && d.grouped)).toBe(true)
    expect(view(grouped).map((d) => d.batch)).toEqual(view(fromFile).map((d) => d.batch))
    for (const other of [fromFile, grouped]) {
      expect(other.tokens).toEqual(uploaded.tokens)
      expect(other.scores).toEqual(uploaded.scores)
      expect(other.losses).toEqual(uploaded.losses)
    }
    // The decode program's logits: the same pre-packed kernel alone or in a group. (Without the cache they differ in
    // the last digits: the float32 head is bound there, baked with the mapped weights here.)
    expect(fromFile.logits).toHaveLength(grouped.logits.length)
    expect(fromFile.logits.filter((v, i) => v !== grouped.logits[i]).length).toBe(0)
    // A store another live process is making, with nothing in it yet: the steps cannot be served, so they share a group.
    const [entry] = readdirSync(cacheRoot).filter((name) => name.includes("-int4-"))
    const folder = nodePath.join(cacheRoot, entry!)
    for (const name of readdirSync(folder).filter((f) => f.startsWith("prepacked-"))) rmSync(nodePath.join(folder, name))
    const lock = nodePath.join(folder, `prepacked-${storeSignature()}.lock`)
    writeFileSync(lock, `${process.ppid} ${hostname()}\n`)
    try {
      const unserved = await workload(true, "auto")
      expect(unserved.decodeCompiles.length).toBeGreaterThanOrEqual(2)
      expect(view(unserved).every((d) => d.baked && d.grouped)).toBe(true)
      expect(unserved.tokens).toEqual(uploaded.tokens)
      expect(unserved.logits.filter((v, i) => v !== grouped.logits[i]).length).toBe(0)
      expect(readdirSync(folder).filter((f) => f.startsWith("prepacked-"))).toEqual([nodePath.basename(lock)])
    } finally {
      rmSync(lock, { force: true })
    }
  }, 300_000)

  it("decodeHead mapped: the int4 decode steps read the LM head as the cache file's bytes; the store holds the projections' pre-packed forms only; the same tokens, scores and losses", async () => {
    const storeKeys = (root: string) => {
      const [entry] = readdirSync(root).filter((name) => name.includes("-int4-"))
      const [index] = readdirSync(nodePath.join(root, entry!)).filter((name) => name.startsWith("prepacked-") && name.endsWith(".json"))
      return Object.keys((JSON.parse(readFileSync(nodePath.join(root, entry!, index!), "utf8")) as { entries: object }).entries)
    }
    const roots = [mkdtempSync(nodePath.join(tmpdir(), "stored-weights-head-")), mkdtempSync(nodePath.join(tmpdir(), "stored-weights-head-"))]
    try {
      const prepacked = await workload(true, "auto", undefined, "int4", undefined, false, undefined, roots[0])
      const mapped = await workload(true, "auto", undefined, "int4", undefined, false, "mapped", roots[1])
      // The default pre-packs the head (a Gemm entry in the store); mapped, every decode step reads it as it is.
      expect(prepacked.decodeCompiles.every((d) => d.readAsIs.length === 0)).toBe(true)
      expect(storeKeys(roots[0]!).filter((key) => key.includes("|Gemm|"))).toHaveLength(1)
      expect(mapped.decodeCompiles.length).toBeGreaterThanOrEqual(2)
      expect(mapped.decodeCompiles.every((d) => d.bakedQuantised && !d.grouped && d.readAsIs.includes("lm_head.weight"))).toBe(true)
      const keys = storeKeys(roots[1]!)
      expect(keys.length).toBeGreaterThan(0)
      expect(keys.filter((key) => key.includes("|Gemm|") || key.includes("|MatMul|"))).toEqual([])
      expect(mapped.uploads + mapped.float32Uploads).toBe(0)
      expect(mapped.tokens).toEqual(prepacked.tokens)
      expect(mapped.scores).toEqual(prepacked.scores)
      expect(mapped.losses).toEqual(prepacked.losses)
      // The decode program's logits: the same product by another kernel (pre-packed or not), equal to float32 rounding.
      mapped.logits.forEach((v, i) => expect(v).toBeCloseTo(prepacked.logits[i]!, 4))
    } finally {
      roots.forEach((root) => rmSync(root, { recursive: true, force: true }))
    }
  }, 300_000)

  it("mapCachedWeights: false reads a cache hit into memory and uploads it, as without a cache: the same results", async () => {
    const uploaded = await workload(false, "shared")
    await workload(true, "shared")
    const held = await workload(true, "shared", false)
    expect(held.cache).toBe("hit")
    expect(held.uploads).toBe(uploaded.uploads)
    expect(held.float32Uploads).toBe(uploaded.float32Uploads)
    expect(held.stored + held.storedFloat32).toBe(0)
    expect(held.tokens).toEqual(uploaded.tokens)
    expect(held.losses).toEqual(uploaded.losses)
    expect(held.reference).toEqual(uploaded.reference)
  }, 300_000)
})

/** The logits of one decode step (batch 1, append cache update, fixed keys / values) run on the runtime's decode program. */
const lastLogits = (runtime: LlamaRuntime) =>
  Effect.gen(function* () {
    const cache = 16
    const step = { batch: 1, length: 1, cache }
    const exe = yield* runtime.executable(step, "last-logits", undefined, "append")
    const rows = [{ tokens: [5], positions: [4], cachePositions: Array.from({ length: cache }, (_, i) => (i < 4 ? i : -1)) }]
    const caches = Object.fromEntries(Object.entries(zeroCaches(runtime.config, 1, cache) as Record<string, HostTensor>).map(([name, t]) => [name, { ...t, data: Float32Array.from({ length: t.data.length }, (_, i) => Math.sin(i) / 4) }]))
    const out = yield* runtime.run(exe, { ...makeStepFeeds(runtime.config, runtime.frequencies, step, rows, 0), ...caches }, { outputs: ["logits"] })
    return Array.from((yield* runtime.backend.download(out.logits!)).data as Float32Array)
  })

describe("float32 weights mapped from a float32 cache", () => {
  const float32Entry = () => readdirSync(cacheRoot).find((name) => name.endsWith("-float32"))
  it("at float32 the cache holds a float32 copy the programs read (written, then a hit): shared gives the uncached results exactly, no uploads", async () => {
    const uploaded = await workload(false, "auto", undefined, "float32")
    expect(uploaded.cache).toBe("off")
    expect(uploaded.float32Uploads).toBeGreaterThan(0)
    expect(float32Entry()).toBeUndefined()
    for (const cache of ["written", "hit"]) {
      const fromFile = await workload(true, "auto", undefined, "float32", "shared")
      expect(fromFile.cache).toBe(cache)
      expect(fromFile.float32Uploads).toBe(0)
      expect(fromFile.storedFloat32).toBe(21) // embeddings (tied head), final norm, 2 layers × (7 projections + 2 norms)
      expect(fromFile.tokens).toEqual(uploaded.tokens)
      expect(fromFile.scores).toEqual(uploaded.scores)
      expect(fromFile.losses).toEqual(uploaded.losses)
      expect(fromFile.reference).toEqual(uploaded.reference)
    }
    expect(statSync(nodePath.join(cacheRoot, float32Entry()!, "weights.safetensors")).size).toBeGreaterThan(0)
  }, 300_000)

  it("by default the decode steps bake the mapped weights, pre-packed forms served from the store, each a session of its own: weight_mode decode's results, no uploads", async () => {
    const baked = await workload(false, "auto", undefined, "float32", "decode")
    const fromFile = await workload(true, "auto", undefined, "float32")
    expect(fromFile.float32Uploads).toBe(0)
    // Without a cache the decode steps share one group; served from the store, each compiles alone (no group to rebuild).
    expect(baked.decodeCompiles.length).toBeGreaterThanOrEqual(2)
    expect(baked.decodeCompiles.every((d) => d.bakedConstants && d.grouped)).toBe(true)
    expect(new Set(fromFile.decodeCompiles.map((d) => d.batch)).size).toBeGreaterThanOrEqual(2)
    expect(fromFile.decodeCompiles.every((d) => d.bakedConstants && !d.grouped)).toBe(true)
    expect(fromFile.tokens).toEqual(baked.tokens)
    expect(fromFile.scores).toEqual(baked.scores)
    expect(fromFile.losses).toEqual(baked.losses)
    expect(fromFile.reference).toEqual(baked.reference)
    // The decode program's logits: the same pre-packed kernel, read from the store instead of made in memory.
    // (Counted, not compared with toEqual: a failing diff of two vocabulary-sized arrays takes vitest minutes.)
    expect(fromFile.logits).toHaveLength(baked.logits.length)
    expect(fromFile.logits.filter((v, i) => v !== baked.logits[i]).length).toBe(0)
    // One store entry per projection (2 layers × 7) and the LM head (the tied embeddings, read by the head product).
    const folder = nodePath.join(cacheRoot, float32Entry()!)
    const [index] = readdirSync(folder).filter((name) => name.startsWith("prepacked-") && name.endsWith(".json"))
    expect(Object.keys((JSON.parse(readFileSync(nodePath.join(folder, index!), "utf8")) as { entries: object }).entries)).toHaveLength(15)
  }, 300_000)

  it("when the store cannot serve the pre-packed forms, the default decode asks for headroom after all: with room it bakes them in memory (decode's logits), without it reads the mapped file unbaked (shared's logits) and says why", async () => {
    // `decode` without a cache (pre-packed in memory), and `shared` from the cache (read from the mapped file as it is).
    const [baked, shared] = [(await workload(false, "auto", undefined, "float32", "decode")).logits, (await workload(true, "auto", undefined, "float32", "shared")).logits]
    expect(baked.filter((v, i) => v !== shared[i]).length).toBeGreaterThan(0)
    const root = mkdtempSync(nodePath.join(tmpdir(), "stored-weights-unserved-"))
    try {
      const got = await runScoped(Effect.gen(function* () {
        const warnings: Array<string> = []
        const makeBackend = () => makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false }, undefined, (w) => warnings.push(w))
        const loaded = yield* loadLlama(tinyModel("llama"), yield* makeBackend(), { contextLength: 64, precision: { precision: "float32", cacheRoot: root } })
        // The store's file name taken by a folder: it cannot be written (as on a full disk or a read-only folder).
        const cacheFolder = nodePath.join(root, readdirSync(root).find((name) => name.endsWith("-float32"))!)
        mkdirSync(nodePath.join(cacheFolder, `prepacked-${storeSignature()}.bin`))
        const fallbacks: Array<string> = []
        // A backend each: one backend's compiled programs are reused by any runtime over the same weights.
        const runtimeWith = (free: number) => Effect.map(makeBackend(), (backend) => makeLlamaRuntime(backend, loaded.runtime.config, loaded.runtime.weights, { contextLength: 64, padTokenId: 0, availableMemory: () => free, onQuantisedFallback: (message) => Effect.sync(() => fallbacks.push(message)) }))
        const roomy = yield* lastLogits(yield* runtimeWith(2 ** 50))
        const roomyFallbacks = fallbacks.length
        const tight = yield* lastLogits(yield* runtimeWith(0))
        return { roomy, tight, roomyFallbacks, fallbacks, warnings }
      }))
      expect(got.roomy.filter((v, i) => v !== baked[i]).length).toBe(0)
      expect(got.tight.filter((v, i) => v !== shared[i]).length).toBe(0)
      expect(got.roomyFallbacks).toBe(0)
      expect(got.fallbacks).toHaveLength(1)
      expect(got.fallbacks[0]).toMatch(/needs about [\d.]+ GiB free and 0\.00 GiB are/)
      // The store's own problem, once.
      expect(got.warnings.filter((w) => w.includes("could not be written"))).toHaveLength(1)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }, 300_000)

  it("mapCachedWeights: false writes no float32 copy", async () => {
    const root = readdirSync(cacheRoot).filter((name) => name.endsWith("-float32"))
    for (const name of root) rmSync(nodePath.join(cacheRoot, name), { recursive: true, force: true })
    const held = await workload(true, "auto", false, "float32")
    expect(held.cache).toBe("off")
    expect(held.storedFloat32).toBe(0)
    expect(float32Entry()).toBeUndefined()
  }, 300_000)
})
