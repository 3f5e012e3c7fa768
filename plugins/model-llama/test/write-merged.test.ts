/**
 * `writeMergedModel`: the merged folder holds W + scale·B·A for every adapted
 * projection (checked against a float64 product computed here), every other
 * tensor and file unchanged, and it scores text like base + adapter does.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { loadModelFolder, loadWeights, openWeights, PULL_RECORD } from "@refine-af/models"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { initLoraAdapter, loadLlama, speakerModelFolder, writeAdapter, writeMergedModel, type LoraAdapter } from "../src/index.ts"

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

  it("does not copy the base's card or pull record: writes its own card (base_model for a pulled base), float32 in both dtype keys, the licence kept", { timeout: 120_000 }, async () => {
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
    await Effect.runPromise(writeMergedModel({ base, adapter: adapterDir, out }))
    expect(existsSync(nodePath.join(out, PULL_RECORD))).toBe(false)
    expect(readFileSync(nodePath.join(out, "LICENSE.txt"), "utf8")).toBe("the base's licence\n")
    const card = readFileSync(nodePath.join(out, "README.md"), "utf8")
    expect(card).not.toContain("The base model's own card.")
    expect(card.split("---")[1]).toContain('base_model: "meta-llama/Llama-2-7b-hf"')
    expect(card).toContain("llama/merge")
    const written = JSON.parse(readFileSync(nodePath.join(out, "config.json"), "utf8")) as Record<string, unknown>
    expect([written.dtype, written.torch_dtype]).toEqual(["float32", "float32"])
  })
})
