import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { initLoraAdapter, loadLlama, makeLlamaLanguageModel, makeLlamaRuntime, mergeAdapter, seededUniform, writeAdapter, type LoraConfig } from "../src/index.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

describe("LoRA adapters in the LanguageModel", () => {
  it("an enabled adapter scores like the merged checkpoint, and the base view like the plain model", async () => {
    const folder = tinyModel("qwen2")
    const adapterDir = mkdtempSync(nodePath.join(tmpdir(), "adapter-switch-"))
    const config: LoraConfig = { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj", "up_proj", "down_proj"], useRsLora: false, baseModelNameOrPath: folder }
    const requests = [{ prompt: "The capital of France is", continuation: " Paris, of course." }, { prompt: "Hello", continuation: " world" }]
    const scores = await runScoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      const plain = yield* loadLlama(folder, backend, { contextLength: 64 })
      const adapter = initLoraAdapter(config, plain.runtime.config, seededUniform(3))
      const uniform = seededUniform(4)
      for (const pair of adapter.pairs.values()) for (let i = 0; i < pair.b.length; i++) pair.b[i] = (uniform() - 0.5) * 0.5
      yield* writeAdapter(adapterDir, adapter)
      const adapted = yield* loadLlama(folder, backend, { contextLength: 64, adapterPath: adapterDir })
      const mergedRuntime = makeLlamaRuntime(backend, plain.runtime.config, mergeAdapter(plain.runtime.weights, adapter), { contextLength: 64, padTokenId: plain.runtime.padTokenId })
      const merged = makeLlamaLanguageModel(mergedRuntime, plain.tokenizer, { id: "merged", contextLength: 64, eosIds: new Set(), maxBatch: 8 })
      return {
        plain: yield* plain.service.score(requests),
        base: yield* adapted.base.score(requests),
        enabled: yield* adapted.service.score(requests),
        merged: yield* merged.score(requests),
        ids: [plain.service.info.id, adapted.service.info.id]
      }
    }))
    const close = (a: ReadonlyArray<number>, b: ReadonlyArray<number>, tolerance: number) => a.every((x, i) => Math.abs(x - b[i]!) < tolerance)
    scores.enabled.forEach((score, i) => {
      expect(close(score.logprobs!, scores.merged[i]!.logprobs!, 1e-4)).toBe(true)
      expect(close(scores.base[i]!.logprobs!, scores.plain[i]!.logprobs!, 1e-6)).toBe(true)
      expect(Math.abs(score.total - scores.plain[i]!.total)).toBeGreaterThan(1e-2)
    })
    expect(scores.ids[0]).not.toBe(scores.ids[1])
  })
})
