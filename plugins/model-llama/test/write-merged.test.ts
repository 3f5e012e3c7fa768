/**
 * `writeMergedModel`: the merged folder holds W + scale·B·A for every adapted
 * projection (checked against a float64 product computed here), every other
 * tensor and file unchanged, and it scores text like base + adapter does.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { loadModelFolder, loadWeights, openSafetensors, openWeights, PULL_RECORD, toHalfPrecision } from "@refine-af/models"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { initLoraAdapter, loadLlama, mergeAdapter, speakerModelFolder, writeAdapter, writeMergedModel, type LoraAdapter } from "../src/index.ts"
import { tinyModel } from "./support/tiny-model.ts"

const scratch = mkdtempSync(nodePath.join(tmpdir(), "refine-af-merged-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const weightsOf = (folder: string) =>
  Effect.runPromise(Effect.gen(function* () {
    const model = yield* loadModelFolder(folder)
    return yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeights(source, model.config, folder)))
  }))

describe("writeMergedModel", () => {
  it("writes W + scale·B·A, keeps everything else, and scores like base + adapter", { timeout: 240_000 }, async () => {
    const base = speakerModelFolder()
    const config = (await Effect.runPromise(loadModelFolder(base))).config
    let state = 7
    const uniform = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648)
    const fresh = initLoraAdapter({ r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "down_proj"], useRsLora: false, baseModelNameOrPath: null }, config, uniform)
    // PEFT starts B at zero (a no-op merge); give B values so the merge changes the weights.
    const adapter: LoraAdapter = { ...fresh, pairs: new Map([...fresh.pairs].map(([m, p]) => [m, { ...p, b: p.b.map(() => (uniform() - 0.5) * 0.2) }])) }
    const adapterDir = nodePath.join(scratch, "adapter")
    const out = nodePath.join(scratch, "merged")
    await Effect.runPromise(writeAdapter(adapterDir, adapter))
    const result = await Effect.runPromise(writeMergedModel({ base, adapter: adapterDir, out }))
    expect(result.mergedModules).toBe(config.numLayers * 2)

    const before = await weightsOf(base)
    const after = await weightsOf(out)
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort())
    const scale = 8 / 4
    for (const [name, tensor] of Object.entries(before)) {
      const module = name.replace(/\.weight$/, "")
      const pair = adapter.pairs.get(module)
      const merged = after[name]!.data as Float32Array
      if (pair === undefined) {
        expect(merged).toEqual(tensor.data)
        continue
      }
      const w = tensor.data as Float32Array
      let worst = 0
      for (let o = 0; o < pair.outFeatures; o++) {
        for (let i = 0; i < pair.inFeatures; i++) {
          let ba = 0
          for (let k = 0; k < 4; k++) ba += pair.b[o * 4 + k]! * pair.a[k * pair.inFeatures + i]!
          worst = Math.max(worst, Math.abs(merged[o * pair.inFeatures + i]! - (w[o * pair.inFeatures + i]! + scale * ba)))
        }
      }
      expect(worst).toBeLessThan(1e-6)
    }
    for (const file of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) {
      expect(readFileSync(nodePath.join(out, file), "utf8")).toBe(readFileSync(nodePath.join(base, file), "utf8"))
    }

    const scores = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 1, worker: false, float16Weights: false })
      const request = [{ prompt: "Task: Sort the numbers.\nClassification:", continuation: " No" }]
      const withAdapter = yield* (yield* loadLlama(base, backend, { contextLength: 64, adapterPath: adapterDir })).service.score(request)
      const plain = yield* (yield* loadLlama(base, backend, { contextLength: 64 })).service.score(request)
      const mergedScore = yield* (yield* loadLlama(out, backend, { contextLength: 64 })).service.score(request)
      return { withAdapter: withAdapter[0]!.total, plain: plain[0]!.total, merged: mergedScore[0]!.total }
    })))
    expect(Math.abs(scores.merged - scores.withAdapter)).toBeLessThan(1e-4)
    expect(Math.abs(scores.merged - scores.plain)).toBeGreaterThan(1e-3)
  })

  it("does not copy the base's card or pull record: writes its own card (base_model for a pulled base), the written dtype in both dtype keys, the licence kept", { timeout: 120_000 }, async () => {
    const base = nodePath.join(scratch, "pulled-base")
    cpSync(speakerModelFolder(), base, { recursive: true })
    writeFileSync(nodePath.join(base, "README.md"), "---\nlicense: llama2\n---\nThe base model's own card.\n")
    writeFileSync(nodePath.join(base, "LICENSE.txt"), "the base's licence\n")
    writeFileSync(nodePath.join(base, PULL_RECORD), JSON.stringify({ source: "https://huggingface.co/meta-llama/Llama-2-7b-hf", revision: "main", files: { "model.safetensors": { size: 1, kind: "sha256", hex: "00" } } }))
    const config = JSON.parse(readFileSync(nodePath.join(base, "config.json"), "utf8")) as Record<string, unknown>
    writeFileSync(nodePath.join(base, "config.json"), JSON.stringify({ ...config, dtype: "bfloat16", torch_dtype: "bfloat16" }))
    const model = await Effect.runPromise(loadModelFolder(base))
    const adapterDir = nodePath.join(scratch, "adapter-2")
    await Effect.runPromise(writeAdapter(adapterDir, initLoraAdapter({ r: 2, alpha: 4, dropout: 0, targetModules: ["q_proj"], useRsLora: false, baseModelNameOrPath: null }, model.config, () => 0.5)))
    const out = nodePath.join(scratch, "merged-2")
    // A base config that says bfloat16 in both keys; float32 asked for: both keys must say so.
    await Effect.runPromise(writeMergedModel({ base, adapter: adapterDir, out, dtype: "float32" }))
    expect(existsSync(nodePath.join(out, PULL_RECORD))).toBe(false)
    expect(readFileSync(nodePath.join(out, "LICENSE.txt"), "utf8")).toBe("the base's licence\n")
    const card = readFileSync(nodePath.join(out, "README.md"), "utf8")
    expect(card).not.toContain("The base model's own card.")
    expect(card.split("---")[1]).toContain('base_model: "meta-llama/Llama-2-7b-hf"')
    expect(card).toContain("llama/merge")
    const written = JSON.parse(readFileSync(nodePath.join(out, "config.json"), "utf8")) as Record<string, unknown>
    expect([written.dtype, written.torch_dtype]).toEqual(["float32", "float32"])
  })

  it("writes a bfloat16 base's merge in bfloat16 (auto), the float32 sum rounded once; shards past the limit with an index that llama/hf loads alike; float32 on request", { timeout: 240_000 }, async () => {
    const base = tinyModel("llama", { dtype: "BF16" })
    const model = await Effect.runPromise(loadModelFolder(base))
    let state = 3
    const uniform = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648)
    const fresh = initLoraAdapter({ r: 2, alpha: 4, dropout: 0, targetModules: ["q_proj", "up_proj"], useRsLora: false, baseModelNameOrPath: null }, model.config, uniform)
    const adapter: LoraAdapter = { ...fresh, pairs: new Map([...fresh.pairs].map(([m, p]) => [m, { ...p, b: p.b.map(() => (uniform() - 0.5) * 0.2) }])) }
    const adapterDir = nodePath.join(scratch, "adapter-bf16")
    await Effect.runPromise(writeAdapter(adapterDir, adapter))
    const whole = nodePath.join(scratch, "merged-bf16")
    const result = await Effect.runPromise(writeMergedModel({ base, adapter: adapterDir, out: whole }))
    expect([result.dtype, result.shards]).toEqual(["bfloat16", 1])
    const expected = mergeAdapter(await weightsOf(base), adapter)
    const onDisk = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const file = yield* openSafetensors(nodePath.join(whole, "model.safetensors"))
      const dtypes = new Set([...file.header.tensors.values()].map((t) => t.dtype))
      const bytes: Record<string, Uint8Array> = {}
      for (const name of file.header.tensors.keys()) bytes[name] = yield* file.readBytes(name)
      return { dtypes, bytes }
    })))
    expect([...onDisk.dtypes]).toEqual(["BF16"])
    expect(Object.keys(onDisk.bytes).sort()).toEqual(Object.keys(expected).sort())
    for (const [name, tensor] of Object.entries(expected)) {
      const want = toHalfPrecision(tensor.data as Float32Array, "BF16")
      expect(Buffer.from(onDisk.bytes[name]!).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)), name).toBe(true)
    }
    expect(JSON.parse(readFileSync(nodePath.join(whole, "config.json"), "utf8")).torch_dtype).toBe("bfloat16")

    // Shards: every tensor in exactly one file named by the index; the same model when loaded.
    const totalBytes = Object.values(expected).reduce((n, t) => n + t.data.length * 2, 0)
    const sharded = nodePath.join(scratch, "merged-bf16-sharded")
    const shardedResult = await Effect.runPromise(writeMergedModel({ base, adapter: adapterDir, out: sharded, maxShardBytes: Math.ceil(totalBytes / 3) }))
    expect(shardedResult.shards).toBeGreaterThanOrEqual(3)
    const index = JSON.parse(readFileSync(nodePath.join(sharded, "model.safetensors.index.json"), "utf8")) as { metadata: { total_size: number }; weight_map: Record<string, string> }
    expect(index.metadata.total_size).toBe(totalBytes)
    expect(Object.keys(index.weight_map).sort()).toEqual(Object.keys(expected).sort())
    expect(new Set(Object.values(index.weight_map)).size).toBe(shardedResult.shards)
    expect(existsSync(nodePath.join(sharded, "model.safetensors"))).toBe(false)
    const float32 = nodePath.join(scratch, "merged-f32")
    expect((await Effect.runPromise(writeMergedModel({ base, adapter: adapterDir, out: float32, dtype: "float32" }))).dtype).toBe("float32")
    expect(JSON.parse(readFileSync(nodePath.join(float32, "config.json"), "utf8")).torch_dtype).toBe("float32")

    const scores = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 1, worker: false, float16Weights: false })
      const request = [{ prompt: "a b c d", continuation: " e f" }]
      const score = (folder: string) => Effect.flatMap(loadLlama(folder, backend, { contextLength: 32 }), ({ service }) => service.score(request))
      return { whole: (yield* score(whole))[0]!.total, sharded: (yield* score(sharded))[0]!.total, float32: (yield* score(float32))[0]!.total, adapted: (yield* Effect.flatMap(loadLlama(base, backend, { contextLength: 32, adapterPath: adapterDir }), ({ service }) => service.score(request)))[0]!.total }
    })))
    expect(scores.sharded).toBe(scores.whole)
    // float32 is base + adapter as run; bfloat16 rounds the sum once (close, not equal).
    expect(Math.abs(scores.float32 - scores.adapted)).toBeLessThan(1e-4)
    expect(Math.abs(scores.whole - scores.adapted)).toBeLessThan(0.05 * Math.abs(scores.adapted) + 0.05)
  })
})
