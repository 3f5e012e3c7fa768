/**
 * A multimodal model runs as its text decoder: the tiny `gemma3` preset (Gemma3ForConditionalGeneration)
 * holds the tiny gemma3_text decoder's weights (drawn by their text names) under
 * `model.language_model.`, beside a SigLIP tower and a projector, and `mistral3`
 * (Mistral3ForConditionalGeneration) the tiny mistral decoder's beside a Pixtral tower. Their logits
 * and greedy tokens are checked against the text models' PyTorch goldens in golden-logits / generation; here:
 * the older checkpoint layout (transformers 4.50's hub uploads, sharded), PEFT adapters named as
 * PEFT names them on that model (and read in either layout, image-side modules kept), and a
 * merge that stays a multimodal folder in the base's layout with the image side written through.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { loadModelFolder, loadWeights, openSafetensors, openWeights, writeSafetensors, type TensorToWrite } from "@refine-af/models"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { adapterScale, initLoraAdapter, loadLlama, mergeAdapter, mergeLoraPair, readAdapter, seededUniform, writeAdapter, writeMergedModel, type LoraAdapter, type LoraPair } from "../src/index.ts"
import { cpuBackend } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const scratch = mkdtempSync(nodePath.join(tmpdir(), "refine-af-multimodal-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** transformers 4.50's names (what transformers ≥ 4.52 renames on load). */
const legacyName = (name: string) =>
  name.replace(/^model\.language_model\./, "language_model.model.").replace(/^lm_head\./, "language_model.lm_head.").replace(/^model\.vision_tower\./, "vision_tower.").replace(/^model\.multi_modal_projector\./, "multi_modal_projector.")

/** Every tensor of a folder's `model.safetensors`: raw bytes, dtype and shape by name. */
const tensorsOf = (file: string) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const opened = yield* openSafetensors(file)
    const out = new Map<string, { readonly dtype: string; readonly shape: ReadonlyArray<number>; readonly bytes: Uint8Array }>()
    for (const [name, entry] of opened.header.tensors) out.set(name, { dtype: entry.dtype, shape: entry.shape, bytes: Uint8Array.from(yield* opened.readBytes(name)) })
    return out
  })))

/** A copy of a tiny multimodal folder in the hub's layout: old names, two shards and an index. */
const legacyFolder = async (base: string, out: string) => {
  mkdirSync(out, { recursive: true })
  for (const file of ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]) writeFileSync(nodePath.join(out, file), readFileSync(nodePath.join(base, file)))
  const tensors = [...(await tensorsOf(nodePath.join(base, "model.safetensors")))].map(([name, t]) => ({ name: legacyName(name), dtype: t.dtype, shape: [...t.shape], data: t.bytes }) as TensorToWrite)
  const half = Math.ceil(tensors.length / 2)
  const shards = [tensors.slice(0, half), tensors.slice(half)]
  const weightMap: Record<string, string> = {}
  for (const [k, shard] of shards.entries()) {
    const file = `model-0000${k + 1}-of-00002.safetensors`
    await Effect.runPromise(writeSafetensors(nodePath.join(out, file), shard, { format: "pt" }))
    for (const tensor of shard) weightMap[tensor.name] = file
  }
  writeFileSync(nodePath.join(out, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }))
  return out
}

/** Bitwise equality of two float arrays (a failing toEqual would diff millions of elements). */
const same = (a: ArrayLike<number> & { readonly buffer: ArrayBufferLike; readonly byteOffset: number; readonly byteLength: number }, b: typeof a) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))

const decoderWeights = (folder: string) =>
  Effect.gen(function* () {
    const model = yield* loadModelFolder(folder)
    return { config: model.config, weights: yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeights(source, model.config, folder))) }
  })
const readDecoder = (folder: string) => Effect.runPromise(decoderWeights(folder))

/** An adapter with non-zero B on the decoder's q_proj / down_proj, and (optionally) one on the vision tower's first q_proj (`module`, 16 × 16). */
const trainedAdapter = (config: Parameters<typeof initLoraAdapter>[1], withVision: boolean, module = ""): LoraAdapter => {
  const uniform = seededUniform(11)
  const fresh = initLoraAdapter({ r: 2, alpha: 4, dropout: 0, targetModules: ["q_proj", "down_proj"], useRsLora: false, baseModelNameOrPath: null }, config, uniform)
  const pairs = new Map([...fresh.pairs].map(([module, pair]) => [module, { ...pair, b: pair.b.map(() => uniform() - 0.5) }]))
  if (!withVision) return { ...fresh, pairs }
  const vision: LoraPair = { module, inFeatures: 16, outFeatures: 16, a: Float32Array.from({ length: 32 }, () => uniform() - 0.5), b: Float32Array.from({ length: 32 }, () => uniform() - 0.5) }
  return { ...fresh, pairs, outside: new Map([[module, vision]]) }
}

const MODELS = [
  { preset: "gemma3", text: "gemma3_text", vision: "model.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj" },
  { preset: "mistral3", text: "mistral", vision: "model.vision_tower.transformer.layers.0.attention.q_proj" }
] as const

describe.each(MODELS)("multimodal $preset: its $text decoder", ({ preset, text: textPreset, vision: visionModule }) => {
  it("reads the decoder from transformers ≥ 4.52's names and from the 4.50 hub layout (sharded) alike: the text model of the same seed (gemma3 at int4 too); a missing decoder tensor is named both ways", { timeout: 120_000 }, async () => {
    const current = tinyModel(preset)
    const legacy = await legacyFolder(current, nodePath.join(scratch, `${preset}-legacy`))
    const text = await readDecoder(tinyModel(textPreset))
    for (const folder of [current, legacy]) {
      const { config, weights } = await readDecoder(folder)
      expect(config.multimodal).toBe(preset)
      expect(Object.keys(weights).sort()).toEqual(Object.keys(text.weights).sort())
      for (const [name, tensor] of Object.entries(text.weights)) expect(same(weights[name]!.data as Float32Array, tensor.data as Float32Array), name).toBe(true)
    }
    // A checkpoint that lacks a decoder tensor: the error names it as the decoder reads it, and says where it is stored.
    const damaged = nodePath.join(scratch, `${preset}-damaged`)
    mkdirSync(damaged, { recursive: true })
    for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json"]) writeFileSync(nodePath.join(damaged, file), readFileSync(nodePath.join(current, file)))
    const kept = [...(await tensorsOf(nodePath.join(current, "model.safetensors")))].filter(([name]) => name !== "model.language_model.norm.weight")
    await Effect.runPromise(writeSafetensors(nodePath.join(damaged, "model.safetensors"), kept.map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape], data: t.bytes }) as TensorToWrite), { format: "pt" }))
    const missing = await Effect.runPromise(Effect.flip(decoderWeights(damaged)))
    expect(missing.message).toContain("missing model.norm.weight")
    expect(missing.message).toContain(`this ${preset} checkpoint stores them under model.language_model.`)
    // At int4 too: the quantisation cache reads the decoder through the same names (legacy layout, sharded; one model is enough, the path is shared).
    if (preset !== "gemma3") return
    const scores = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      const request = [{ prompt: "Sort the numbers 3, 1, 2.", continuation: " 1, 2, 3" }]
      const totals: Array<number> = []
      for (const folder of [legacy, tinyModel(textPreset)]) totals.push((yield* (yield* loadLlama(folder, backend, { contextLength: 64, precision: { precision: "int4" } })).service.score(request))[0]!.total)
      return totals
    })))
    expect(scores[0]).toBe(scores[1])
  })

  it("writes adapters with PEFT's names on this model and reads them back in either layout; image-side modules are kept, and refused on a text-only model", { timeout: 120_000 }, async () => {
    const { config } = await readDecoder(tinyModel(preset))
    const adapter = trainedAdapter(config, false)
    const dir = nodePath.join(scratch, `${preset}-adapter`)
    await Effect.runPromise(writeAdapter(dir, adapter, config))
    const json = JSON.parse(readFileSync(nodePath.join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>
    // A pattern kept to the language model: a bare "q_proj" would also wrap the vision tower's q_proj in PEFT.
    expect(json.target_modules).toBe(".*language_model.*\\.(?:q_proj|down_proj)")
    const names = [...(await tensorsOf(nodePath.join(dir, "adapter_model.safetensors"))).keys()]
    expect(names).toContain("base_model.model.model.language_model.layers.1.mlp.down_proj.lora_B.weight")
    expect(names.every((name) => name.startsWith("base_model.model.model.language_model.layers."))).toBe(true)
    const back = await Effect.runPromise(readAdapter(dir, config))
    expect(back.config.targetModules).toEqual(["q_proj", "down_proj"])
    expect([...back.pairs.keys()].sort()).toEqual([...adapter.pairs.keys()].sort())
    for (const [module, pair] of adapter.pairs) expect(same(back.pairs.get(module)!.b, pair.b), module).toBe(true)

    // transformers 4.50's module names and an all-linear adapter holding a vision-tower module.
    const withVision = trainedAdapter(config, true, visionModule)
    const legacyDir = nodePath.join(scratch, `${preset}-adapter-legacy`)
    await Effect.runPromise(writeAdapter(legacyDir, withVision, config))
    const legacyJson = JSON.parse(readFileSync(nodePath.join(legacyDir, "adapter_config.json"), "utf8")) as Record<string, unknown>
    // PEFT full-matches the pattern against module paths: the decoder's targets and exactly the image-side modules held, in either naming.
    const pattern = new RegExp(`^(?:${String(legacyJson.target_modules)})$`)
    for (const path of ["model.language_model.layers.1.mlp.down_proj", "language_model.model.layers.0.self_attn.q_proj", visionModule, legacyName(visionModule)]) expect(pattern.test(path), path).toBe(true)
    for (const path of [visionModule.replace(/q_proj$/, "k_proj"), "model.language_model.layers.0.self_attn.k_proj", "model.vision_tower.x.down_proj"]) expect(pattern.test(path), path).toBe(false)
    const tensors = await tensorsOf(nodePath.join(legacyDir, "adapter_model.safetensors"))
    await Effect.runPromise(writeSafetensors(nodePath.join(legacyDir, "adapter_model.safetensors"), [...tensors].map(([name, t]) => ({ name: `base_model.model.${legacyName(name.slice("base_model.model.".length))}`, dtype: t.dtype, shape: [...t.shape], data: t.bytes }) as TensorToWrite), { format: "pt" }))
    expect([...(await tensorsOf(nodePath.join(legacyDir, "adapter_model.safetensors"))).keys()]).toContain(`base_model.model.${legacyName(visionModule)}.lora_A.weight`)
    const legacyBack = await Effect.runPromise(readAdapter(legacyDir, config))
    expect([...legacyBack.pairs.keys()].sort()).toEqual([...adapter.pairs.keys()].sort())
    expect([...(legacyBack.outside?.keys() ?? [])]).toEqual([visionModule])
    expect(legacyBack.outside?.values().next().value?.a).toEqual(withVision.outside!.values().next().value!.a)

    const textOnly = (await readDecoder(tinyModel(textPreset))).config
    const refused = await Effect.runPromise(Effect.flip(readAdapter(legacyDir, textOnly)))
    expect(refused.message).toContain(`unexpected tensor "base_model.model.${legacyName(visionModule)}.lora_A.weight"`)
  })

  it("merges into a multimodal folder in the base's layout: decoder W + scale·B·A, the image side written through (its LoRA module merged), scoring like base + adapter", { timeout: 240_000 }, async () => {
    const current = tinyModel(preset)
    const { config, weights } = await readDecoder(current)
    const adapter = trainedAdapter(config, true, visionModule)
    const adapterDir = nodePath.join(scratch, `${preset}-adapter-merge`)
    await Effect.runPromise(writeAdapter(adapterDir, adapter, config))
    const legacy = await legacyFolder(current, nodePath.join(scratch, `${preset}-legacy-base`))
    const baseTensors = await tensorsOf(nodePath.join(current, "model.safetensors"))
    const expected = mergeAdapter(weights, adapter)
    const vision = adapter.outside!.values().next().value!
    for (const [base, layout] of [[current, (name: string) => name], [legacy, legacyName]] as const) {
      const out = nodePath.join(scratch, `merged-${nodePath.basename(base)}`)
      const result = await Effect.runPromise(writeMergedModel({ base, adapter: adapterDir, out }))
      expect(result.mergedModules).toBe(adapter.pairs.size + 1)
      const written = await tensorsOf(nodePath.join(out, "model.safetensors"))
      expect([...written.keys()].sort()).toEqual([...baseTensors.keys()].map(layout).sort())
      for (const [name, tensor] of baseTensors) {
        const values = new Float32Array(written.get(layout(name))!.bytes.slice().buffer)
        const inner = name.startsWith("model.language_model.") ? `model.${name.slice("model.language_model.".length)}` : name
        if (expected[inner] !== undefined) expect(same(values, expected[inner]!.data as Float32Array), name).toBe(true)
        else if (name === `${vision.module}.weight`) expect(same(values, mergeLoraPair(new Float32Array(tensor.bytes.slice().buffer), vision, adapterScale(adapter))), name).toBe(true)
        else expect(Buffer.from(written.get(layout(name))!.bytes).equals(Buffer.from(tensor.bytes)), name).toBe(true)
      }
      const writtenConfig = JSON.parse(readFileSync(nodePath.join(out, "config.json"), "utf8")) as Record<string, unknown>
      expect([writtenConfig.model_type, (writtenConfig.text_config as Record<string, unknown>).hidden_size]).toEqual([preset, 64])
    }

    const scores = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      const request = [{ prompt: "Sort the numbers 3, 1, 2.", continuation: " 1, 2, 3" }]
      const withAdapter = yield* (yield* loadLlama(current, backend, { contextLength: 64, adapterPath: adapterDir })).service.score(request)
      const plain = yield* (yield* loadLlama(current, backend, { contextLength: 64 })).service.score(request)
      const merged = yield* (yield* loadLlama(nodePath.join(scratch, `merged-${nodePath.basename(legacy)}`), backend, { contextLength: 64 })).service.score(request)
      return { withAdapter: withAdapter[0]!.total, plain: plain[0]!.total, merged: merged[0]!.total }
    })))
    expect(Math.abs(scores.merged - scores.withAdapter)).toBeLessThan(1e-4)
    expect(Math.abs(scores.merged - scores.plain)).toBeGreaterThan(1e-3)

    // An image-side module the base does not hold at that shape is refused before anything is written.
    const wrong = nodePath.join(scratch, `${preset}-adapter-wrong`)
    const misfit: LoraPair = { ...vision, inFeatures: 8, a: vision.a.slice(0, 16) }
    await Effect.runPromise(writeAdapter(wrong, { ...adapter, outside: new Map([[vision.module, misfit]]) }, config))
    const refused = await Effect.runPromise(Effect.flip(writeMergedModel({ base: current, adapter: wrong, out: nodePath.join(scratch, `${preset}-merged-wrong`) })))
    expect(refused.message).toContain(`${vision.module} is [16, 8] in the adapter but [16,16] in the base`)
    expect(existsSync(nodePath.join(scratch, `${preset}-merged-wrong`))).toBe(false)
  })
})
