/**
 * Frozen weights shared by every program (bound backend tensors) against
 * baked into each (constants): the same model on the same backend must give
 * the same logits, generated tokens, scores and LoRA gradients. Tolerances:
 * onnxruntime folds and pre-packs a baked weight (Transpose folded, MLAS
 * packed B) while a bound one is transposed inside the fused matmul, so the
 * kernels may sum in a different order. Measured (printed): logits bit-equal
 * on this model, LoRA gradients 1.4e-6 relative; allowed: logits 1e-6,
 * gradients / scores / loss 1e-5 relative.
 *
 * The same for weights held below float32 (int8 projections): stored once and
 * dequantised by each run (`quantisedBinding: "shared"`) against baked into
 * each program, on a backend that runs baked ones through DequantizeLinear
 * too (so both compute with the same dequantised values); and `auto` bakes
 * them only into decode steps (one new token per row) and uploads each weight once.
 */
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { isDeviceQuantised, quantiseWeight, type BackendService, type HostTensor, type QuantisedWeight } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadModelFolder, loadWeights, makeStepFeeds, leftPadRows, openWeights, projectionsOf } from "@refine-af/models"
import { generateTokens, makeLlamaRuntime, storedBelowFloat32, makeLoraTrainer, scoreSequences, zeroCaches, loraModulePath, projectionShape, type LlamaRuntime, type LoraAdapter, type LoraPair } from "../src/index.ts"
import { cpuBackend, recordingDecodes, runScoped, type DecodeCompile } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0
  let scale = 1e-30
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
    scale = Math.max(scale, Math.abs(b[i]!))
  }
  return worst / scale
}

const adapterOf = (config: Parameters<typeof projectionShape>[0]): LoraAdapter => {
  const pairs = new Map<string, LoraPair>()
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const target of projectionsOf(config)) {
      const [outFeatures, inFeatures] = projectionShape(config, target)
      const a = Float32Array.from({ length: 4 * inFeatures }, (_, i) => 0.05 * Math.sin(0.3 * i + layer))
      const b = Float32Array.from({ length: outFeatures * 4 }, (_, i) => 0.05 * Math.cos(0.2 * i + layer))
      const module = loraModulePath(layer, target)
      pairs.set(module, { module, inFeatures, outFeatures, a, b })
    }
  }
  return { config: { r: 4, alpha: 8, dropout: 0, targetModules: [...projectionsOf(config)], useRsLora: false, baseModelNameOrPath: null }, pairs }
}

const observe = (runtime: LlamaRuntime) =>
  Effect.gen(function* () {
    const shape = { batch: 2, length: 16, cache: 32 }
    const rows = leftPadRows([[5, 9, 33, 71, 2, 8], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]], 16, 0, 32)
    const exe = yield* runtime.executable(shape, "all-logits")
    const out = yield* runtime.run(exe, { ...makeStepFeeds(runtime.config, runtime.frequencies, shape, rows, 0), ...zeroCaches(runtime.config, 2, 32) })
    const logits = (yield* runtime.backend.download(out.logits!)).data as Float32Array
    const generated = yield* generateTokens(runtime, [{ promptIds: [1, 17, 93, 250], params: { maxNewTokens: 12, temperature: 0 } }, { promptIds: [4, 5], params: { maxNewTokens: 12, temperature: 0 } }], { tokenizer: { decode: () => "" }, eosIds: new Set(), contextLength: 64 })
    const scores = yield* scoreSequences(runtime, [{ ids: [1, 17, 93, 250, 41, 300, 7], from: 4 }], 8)
    const trainer = yield* makeLoraTrainer(runtime, adapterOf(runtime.config), { batch: 2, length: 12, learningRate: 0.01 })
    const { loss, gradients } = yield* trainer.gradients([{ ids: [1, 17, 93, 250, 41, 300, 7], promptLength: 4 }, { ids: [3, 4, 5, 6, 7], promptLength: 2 }])
    return { logits, tokens: generated.map((g) => g.tokenIds), scores: scores[0]!, loss, gradients }
  })

/** The tiny llama (512-token vocabulary) with its decoder projections quantised at `scheme` (block 16), the rest float32. */
const tinyLlamaAt = (scheme: "int8" | "int4") =>
  Effect.gen(function* () {
    const folder = tinyModel("llama", { set: { vocab_size: 512 } })
    const model = yield* loadModelFolder(folder)
    const float32 = yield* loadWeights(yield* openWeights(model), model.config, folder)
    const kept: Record<string, HostTensor> = {}
    const quantised: Record<string, QuantisedWeight> = {}
    for (const [name, tensor] of Object.entries(float32)) {
      if (storedBelowFloat32(scheme, name, tensor.shape)) quantised[name] = quantiseWeight(tensor.data as Float32Array, tensor.shape, scheme, 16)
      else kept[name] = tensor
    }
    return { model, kept, quantised }
  })

/** Greedy generation options for the token-id tests below (no tokenizer, no end-of-sequence ids). */
const idOptions = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 128 }
const greedy = (promptIds: Array<number>, maxNewTokens: number) => ({ promptIds, params: { maxNewTokens, temperature: 0 } })

/**
 * The int4 tiny model at `auto` on `spy` with free memory the test sets
 * (`memory.free`, 64 GiB to start) and the warnings it gets, and a reference
 * runtime on `backend` that always has room.
 */
const lowMemoryRuntimes = (spy: BackendService, backend: BackendService, fixture: Effect.Success<ReturnType<typeof tinyLlamaAt>>) => {
  const { model, kept, quantised } = fixture
  const memory = { free: 64 * 2 ** 30 }
  const warnings: Array<string> = []
  const runtime = makeLlamaRuntime(spy, model.config, kept, { contextLength: 128, padTokenId: 0, quantised, availableMemory: () => memory.free, onQuantisedFallback: (message) => Effect.sync(() => warnings.push(message)) })
  const reference = makeLlamaRuntime(backend, model.config, kept, { contextLength: 128, padTokenId: 0, quantised, availableMemory: () => 64 * 2 ** 30 })
  return { memory, warnings, runtime, reference }
}

describe("shared frozen weights (bound once) vs baked (constants per program)", () => {
  it("give the same logits, greedy tokens, scores and LoRA gradients", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const folder = tinyModel("llama", { set: { vocab_size: 512 } })
      const backend = yield* cpuBackend
      const model = yield* loadModelFolder(folder)
      const weights = yield* loadWeights(yield* openWeights(model), model.config, folder)
      const make = (weightMode: "shared" | "baked") => makeLlamaRuntime(backend, model.config, weights, { contextLength: 64, padTokenId: 0, weightMode })
      return { shared: yield* observe(make("shared")), baked: yield* observe(make("baked")) }
    }))
    const logitDiff = maxRelDiff(r.shared.logits, r.baked.logits)
    const gradDiff = Math.max(...Object.keys(r.baked.gradients).map((k) => maxRelDiff(r.shared.gradients[k]!, r.baked.gradients[k]!)))
    console.log(`shared vs baked: logits max rel diff ${logitDiff.toExponential(2)}, LoRA gradients ${gradDiff.toExponential(2)}, loss ${r.shared.loss} vs ${r.baked.loss}`)
    expect(r.shared.logits.length).toBe(2 * 16 * 512)
    expect(logitDiff).toBeLessThanOrEqual(1e-6)
    expect(r.shared.tokens).toEqual(r.baked.tokens)
    expect(r.shared.tokens[0]!.length).toBe(12)
    expect(maxRelDiff(r.shared.scores, r.baked.scores)).toBeLessThanOrEqual(1e-5)
    expect(Math.abs(r.shared.loss - r.baked.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(r.baked.loss))
    expect(Object.keys(r.shared.gradients).length).toBe(Object.keys(r.baked.gradients).length)
    expect(gradDiff).toBeLessThanOrEqual(1e-5)
  }, 120_000)

  it("a vocabulary head read through its [K, N] copy at batch 1 (transposedCopies) decodes the same greedy tokens and logits", async () => {
    // 32768 × 128: the smallest head that qualifies (4 Mi elements, K ≤ 512), as the 30M benchmark model's 32000 × 384 does.
    const r = await runScoped(Effect.gen(function* () {
      const folder = tinyModel("llama", { set: { vocab_size: 32768, hidden_size: 128 } })
      const model = yield* loadModelFolder(folder)
      const weights = yield* loadWeights(yield* openWeights(model), model.config, folder)
      const decode = (transposedCopies: boolean) =>
        Effect.gen(function* () {
          const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false, transposedCopies })
          const runtime = makeLlamaRuntime(backend, model.config, weights, { contextLength: 64, padTokenId: 0, weightMode: "shared" })
          // One decode step's logits (one row, one new token): the product the copy serves.
          const shape = { batch: 1, length: 1, cache: 32 }
          const exe = yield* runtime.executable(shape, "all-logits")
          const out = yield* runtime.run(exe, { ...makeStepFeeds(runtime.config, runtime.frequencies, shape, leftPadRows([[4097]], 1, 0, 32), 0), ...zeroCaches(runtime.config, 1, 32) })
          const logits = (yield* backend.download(out.logits!)).data as Float32Array
          const generated = yield* generateTokens(runtime, [{ promptIds: [1, 17, 93, 25000], params: { maxNewTokens: 10, temperature: 0 } }], { tokenizer: { decode: () => "" }, eosIds: new Set(), contextLength: 64 })
          return { logits, tokens: generated[0]!.tokenIds ?? [] }
        })
      return { copies: yield* decode(true), plain: yield* decode(false) }
    }))
    const logitDiff = maxRelDiff(r.copies.logits, r.plain.logits)
    console.log(`transposed copy vs plain: decode-step logits max rel diff ${logitDiff.toExponential(2)}, tokens ${r.copies.tokens.join(",")}`)
    expect(r.copies.logits.length).toBe(32768)
    // Both sum each logit over the same 128 products; float32 rounding of a different kernel.
    expect(logitDiff).toBeLessThanOrEqual(1e-5)
    // Not bit-equal: the copy's kernel ran (the same kernel on the same data is deterministic, so 0 would mean the plan never matched).
    expect(logitDiff).toBeGreaterThan(0)
    expect(r.copies.tokens).toEqual(r.plain.tokens)
    expect(r.copies.tokens.length).toBe(10)
  }, 120_000)

  it("int8 weights stored once (shared) give the same results as baked into each program; auto bakes only decode steps", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { model, kept, quantised } = yield* tinyLlamaAt("int8")
      // Baked int weights through DequantizeLinear as well: both forms then compute with the same values.
      const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false, quantisedMatMul: "dequantize" })
      const make = (quantisedBinding: "shared" | "baked") => makeLlamaRuntime(backend, model.config, kept, { contextLength: 64, padTokenId: 0, quantised, quantisedBinding })
      const shared = yield* observe(make("shared"))
      const baked = yield* observe(make("baked"))
      // auto on the default backend: which programs got the stored copy, and how often it was uploaded.
      const seen: Array<{ tokens: number; step: boolean; bound: number; baked: number }> = []
      let uploads = 0
      const defaultBackend = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false })
      const spy: BackendService = {
        ...defaultBackend,
        uploadQuantised: (weight) => Effect.tap(defaultBackend.uploadQuantised(weight), () => Effect.sync(() => uploads++)),
        compile: (program, options) => {
          const given = Object.values(options?.quantised ?? {})
          const ids = program.inputs.find((i) => i.name === "input_ids")
          // Step programs (generation, scoring) have no loss mask; training programs do.
          if (ids) seen.push({ tokens: program.nodes[ids.id]!.shape[1]!, step: !program.inputs.some((i) => i.name === "loss_mask"), bound: given.filter(isDeviceQuantised).length, baked: given.filter((w) => !isDeviceQuantised(w)).length })
          return defaultBackend.compile(program, options)
        }
      }
      const autoRuntime = makeLlamaRuntime(spy, model.config, kept, { contextLength: 64, padTokenId: 0, quantised })
      const auto = yield* observe(autoRuntime)
      // A batch-4 decode step (baked) and prefill (bound).
      yield* autoRuntime.executable({ batch: 4, length: 1, cache: 32 }, "last-logits")
      yield* autoRuntime.executable({ batch: 4, length: 16, cache: 32 }, "last-logits")
      return { shared, baked, auto, seen, uploads, count: Object.keys(quantised).length }
    }))
    const logitDiff = maxRelDiff(r.shared.logits, r.baked.logits)
    const gradDiff = Math.max(...Object.keys(r.baked.gradients).map((k) => maxRelDiff(r.shared.gradients[k]!, r.baked.gradients[k]!)))
    console.log(`int8 shared vs baked: logits max rel diff ${logitDiff.toExponential(2)}, LoRA gradients ${gradDiff.toExponential(2)}; auto programs ${JSON.stringify(r.seen)}, uploads ${r.uploads}`)
    expect(r.count).toBeGreaterThan(0)
    expect(logitDiff).toBeLessThanOrEqual(1e-6)
    expect(r.shared.tokens).toEqual(r.baked.tokens)
    expect(maxRelDiff(r.shared.scores, r.baked.scores)).toBeLessThanOrEqual(1e-5)
    expect(gradDiff).toBeLessThanOrEqual(1e-5)
    // auto: decode steps (one token per row) baked; prefill, all-position, scoring and training programs bound;
    // each weight uploaded once for all of them.
    const expected = (p: { tokens: number; step: boolean }) => (p.step && p.tokens === 1 ? { bound: 0, baked: r.count } : { bound: r.count, baked: 0 })
    for (const p of r.seen) expect({ bound: p.bound, baked: p.baked }).toEqual(expected(p))
    expect(r.seen.filter((p) => p.step && p.tokens === 1).length).toBeGreaterThan(1)
    expect(r.seen.filter((p) => p.step && p.tokens > 1).length).toBeGreaterThan(1)
    expect(r.seen.some((p) => !p.step)).toBe(true)
    expect(r.uploads).toBe(r.count)
    expect(r.auto.tokens[0]!.length).toBe(12)
  }, 180_000)

  it("auto decodes on an already-baked step (padding rows, spare slots) rather than compile one that shares the stored copy (a backend that does not group)", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      // Decode programs compiled and whether they baked the quantised weights, on a backend without session groups
      // (every baked program is a copy of its own).
      const { spy, decodes: compiled } = recordingDecodes(backend, true)
      const { memory, warnings, runtime, reference } = lowMemoryRuntimes(spy, backend, yield* tinyLlamaAt("int4"))
      const view = (d: DecodeCompile) => ({ batch: d.batch, cache: d.cache, baked: d.bakedQuantised })
      const options = idOptions
      const request = greedy
      // With room: two rows of equal budgets decode at batch 2 over 64 slots (baked).
      yield* generateTokens(runtime, [request([1, 17, 93, 250], 20), request([4, 5], 20)], options)
      const before = compiled.length
      memory.free = 100 * 2 ** 20
      // No room: one row finishing early would shrink the batch to 1, and a lone request would decode at batch 1;
      // both stay on the baked batch-2 step. A request that needs 128 slots has no baked step to use.
      const shrinking = [request([1, 17, 93, 250], 20), request([4, 5], 6)]
      const lone = [request([7, 8, 9], 10)]
      const long = [request([3, 1, 4, 1, 5], 60)]
      const got = [yield* generateTokens(runtime, shrinking, options), yield* generateTokens(runtime, lone, options)]
      const afterReuse = compiled.slice(before).map(view)
      const warningsAfterReuse = warnings.length
      got.push(yield* generateTokens(runtime, long, options))
      const expected = [yield* generateTokens(reference, shrinking, options), yield* generateTokens(reference, lone, options), yield* generateTokens(reference, long, options)]
      return { first: compiled.slice(0, before).map(view), afterReuse, afterLong: compiled.slice(before + afterReuse.length).map(view), warningsAfterReuse, warnings, got, expected }
    }))
    expect(r.first).toEqual([{ batch: 2, cache: 64, baked: true }])
    expect(r.afterReuse).toEqual([])
    expect(r.warningsAfterReuse).toBe(0)
    // Nothing baked holds 128 slots: that step shares the stored copy, and says so.
    expect(r.afterLong).toEqual([{ batch: 1, cache: 128, baked: false }])
    expect(r.warnings.length).toBe(1)
    // The reused steps compute what the exact shapes compute (padding rows and empty slots add nothing).
    const diffs = r.got.slice(0, 2).map((generations, i) => generations.map((g, j) => Math.max(...g.logprobs!.map((lp, k) => Math.abs(lp - r.expected[i]![j]!.logprobs![k]!)))))
    console.log(`reused decode steps vs exact shapes: greedy logprobs max abs diff ${JSON.stringify(diffs)}`)
    r.got.slice(0, 2).forEach((generations, i) => generations.forEach((g, j) => expect(g.tokenIds).toEqual(r.expected[i]![j]!.tokenIds)))
    for (const d of diffs.flat()) expect(d).toBeLessThanOrEqual(1e-4)
    expect(r.got.map((g) => g.map((x) => x.tokenIds!.length))).toEqual([[20, 6], [10], [60]])
  }, 120_000)

  it("auto bakes every further decode shape into its family's session group even when another copy would not fit: the group holds one", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      const { spy, decodes: compiled } = recordingDecodes(backend)
      const { memory, warnings, runtime, reference } = lowMemoryRuntimes(spy, backend, yield* tinyLlamaAt("int4"))
      yield* generateTokens(runtime, [greedy([1, 17, 93, 250], 20), greedy([4, 5], 20)], idOptions)
      memory.free = 100 * 2 ** 20
      const requests = [[greedy([1, 17, 93, 250], 20), greedy([4, 5], 6)], [greedy([7, 8, 9], 10)], [greedy([3, 1, 4, 1, 5], 60)]]
      const got = yield* Effect.forEach(requests, (batch) => generateTokens(runtime, batch, idOptions))
      const expected = yield* Effect.forEach(requests, (batch) => generateTokens(reference, batch, idOptions))
      const decodes = compiled.map((d) => ({ batch: d.batch, cache: d.cache, baked: d.bakedQuantised, grouped: d.grouped }))
      return { decodes, warnings, got, expected }
    }))
    // Batch 2 with room, then batch 1 (the shrunk loop and the lone request) and the 128-slot step at 100 MiB free: all baked, in the group.
    expect(r.decodes).toEqual([
      { batch: 2, cache: 64, baked: true, grouped: true },
      { batch: 1, cache: 64, baked: true, grouped: true },
      { batch: 1, cache: 128, baked: true, grouped: true }
    ])
    expect(r.warnings).toEqual([])
    r.got.forEach((generations, i) => generations.forEach((g, j) => {
      expect(g.tokenIds).toEqual(r.expected[i]![j]!.tokenIds)
      g.logprobs!.forEach((lp, k) => expect(Math.abs(lp - r.expected[i]![j]!.logprobs![k]!)).toBeLessThanOrEqual(1e-4))
    }))
  }, 120_000)

  it("weight_mode: decode bakes float32 weights into the decode steps' group (the widths the backend's prefersBound says to bake) while memory allows, else decodes on the shared copy and says so once; same tokens either way", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const folder = tinyModel("llama", { set: { vocab_size: 512 } })
      const model = yield* loadModelFolder(folder)
      const weights = yield* loadWeights(yield* openWeights(model), model.config, folder)
      const backend = yield* cpuBackend
      // A backend that prefers bound weights from 4 rows (backend-onnx with AVX2 kernels below K = 2048).
      const { spy, decodes: compiled } = recordingDecodes({ ...backend, prefersBound: (rows) => rows >= 4 })
      const view = (d: DecodeCompile) => ({ batch: d.batch, baked: d.bakedConstants, grouped: d.grouped })
      const options = idOptions
      const requests = [greedy([1, 17, 93, 250], 12), greedy([4, 5], 12)]
      const warnings: Array<string> = []
      const roomy = makeLlamaRuntime(spy, model.config, weights, { contextLength: 128, padTokenId: 0, weightMode: "decode", availableMemory: () => 64 * 2 ** 30 })
      const withRoom = yield* generateTokens(roomy, requests, options)
      const bakedDecodes = compiled.map(view)
      compiled.length = 0
      // Four rows: the backend prefers them bound, so read from the shared copy even with room.
      const wide = yield* generateTokens(roomy, [...requests, ...requests], options)
      const wideDecodes = compiled.map(view)
      compiled.length = 0
      // A backend whose baked products are faster at every width (backend-onnx with AVX-512 kernels): four rows bake too.
      const everyWidth = recordingDecodes({ ...backend, prefersBound: () => false })
      const wideBaked = yield* generateTokens(makeLlamaRuntime(everyWidth.spy, model.config, weights, { contextLength: 128, padTokenId: 0, weightMode: "decode", availableMemory: () => 64 * 2 ** 30 }), [...requests, ...requests], options)
      const wideBakedDecodes = everyWidth.decodes.map(view)
      // A backend that prefers bound weights at one row only (backend-onnx with AVX2 kernels at K >= 2048 prefers them
      // at 1 and 4+ rows), asked at the model's smallest inner size: one row reads the shared copy, two bake.
      const asked: Array<number> = []
      const oneRow = recordingDecodes({ ...backend, prefersBound: (rows, k) => (asked.push(k), rows === 1) })
      const oneRowRuntime = makeLlamaRuntime(oneRow.spy, model.config, weights, { contextLength: 128, padTokenId: 0, weightMode: "decode", availableMemory: () => 64 * 2 ** 30 })
      const single = yield* generateTokens(oneRowRuntime, [requests[0]!], options)
      const pair = yield* generateTokens(oneRowRuntime, requests, options)
      const oneRowDecodes = oneRow.decodes.map(view)
      const tight = makeLlamaRuntime(spy, model.config, weights, { contextLength: 128, padTokenId: 0, weightMode: "decode", availableMemory: () => 1024, onQuantisedFallback: (message) => Effect.sync(() => warnings.push(message)) })
      const withoutRoom = yield* generateTokens(tight, requests, options)
      const shared = yield* generateTokens(makeLlamaRuntime(backend, model.config, weights, { contextLength: 128, padTokenId: 0 }), requests, options)
      const c = model.config
      return { bakedDecodes, wideDecodes, wide, wideBakedDecodes, wideBaked, oneRowDecodes, single, pair, asked, innerSize: Math.min(c.hiddenSize, c.numHeads * c.headDim, c.intermediateSize), sharedDecodes: compiled.map(view), warnings, withRoom, withoutRoom, shared }
    }))
    expect(r.oneRowDecodes.filter((d) => d.batch === 1).length).toBeGreaterThan(0)
    expect(r.oneRowDecodes.filter((d) => d.batch === 1).every((d) => !d.baked && !d.grouped)).toBe(true)
    expect(r.oneRowDecodes.filter((d) => d.batch === 2).length).toBeGreaterThan(0)
    expect(r.oneRowDecodes.filter((d) => d.batch === 2).every((d) => d.baked && d.grouped)).toBe(true)
    expect(new Set(r.asked)).toEqual(new Set([r.innerSize]))
    expect(r.single[0]!.tokenIds).toEqual(r.shared[0]!.tokenIds)
    r.pair.forEach((g, i) => expect(g.tokenIds).toEqual(r.shared[i]!.tokenIds))
    expect(r.bakedDecodes.length).toBeGreaterThan(0)
    expect(r.bakedDecodes.every((d) => d.baked && d.grouped)).toBe(true)
    expect(r.wideDecodes.map((d) => d.batch)).toContain(4)
    expect(r.wideDecodes.filter((d) => d.batch === 4).every((d) => !d.baked && !d.grouped)).toBe(true)
    expect(r.wideBakedDecodes.map((d) => d.batch)).toContain(4)
    expect(r.wideBakedDecodes.every((d) => d.baked && d.grouped)).toBe(true)
    expect(r.sharedDecodes.length).toBeGreaterThan(0)
    expect(r.sharedDecodes.every((d) => !d.baked && !d.grouped)).toBe(true)
    expect(r.warnings.length).toBe(1)
    expect(r.warnings[0]).toMatch(/weight_mode: decode/)
    for (const run of [r.withRoom, r.withoutRoom.slice(0, 2), r.wide.slice(0, 2), r.wideBaked.slice(0, 2), r.wideBaked.slice(2)]) run.forEach((g, i) => expect(g.tokenIds).toEqual(r.shared[i]!.tokenIds))
  }, 120_000)

  it("auto shares the stored copy with decode steps, and says so once, when another baked copy would not fit", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { model, kept, quantised } = yield* tinyLlamaAt("int4")
      const backend = yield* cpuBackend
      const baked: Array<number> = []
      const spy: BackendService = {
        ...backend,
        compile: (program, options) => {
          baked.push(Object.values(options?.quantised ?? {}).filter((w) => !isDeviceQuantised(w)).length)
          return backend.compile(program, options)
        }
      }
      const warnings: Array<string> = []
      // A machine with 100 MiB free: less than bakeHeadroom of even these tiny weights.
      const runtime = makeLlamaRuntime(spy, model.config, kept, {
        contextLength: 64, padTokenId: 0, quantised, availableMemory: () => 100 * 2 ** 20,
        onQuantisedFallback: (message) => Effect.sync(() => warnings.push(message))
      })
      const requests = [{ promptIds: [1, 17, 93, 250], params: { maxNewTokens: 6, temperature: 0 } }, { promptIds: [4, 5], params: { maxNewTokens: 6, temperature: 0 } }]
      const generated = yield* generateTokens(runtime, requests, { tokenizer: { decode: () => "" }, eosIds: new Set(), contextLength: 64 })
      yield* runtime.executable({ batch: 8, length: 1, cache: 64 }, "last-logits")
      return { baked, warnings, tokens: generated.map((g) => (g.tokenIds ?? []).length) }
    }))
    expect(r.tokens).toEqual([6, 6])
    expect(r.baked.every((n) => n === 0)).toBe(true)
    expect(r.warnings.length).toBe(1)
    expect(r.warnings[0]).toMatch(/needs about [\d.]+ GiB free and 0\.10 GiB are; this and later decode programs share the stored copy/)
  }, 120_000)
})
