import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { LanguageModel, type LanguageModelService } from "@refine-af/core"
import { PolicyModel } from "@refine-af/training"
import { toFloat64, type BackendService } from "@refine-af/tensor"
import { Context, Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import plugin, { LlamaCheckpoint, llamaResource, loadLlama, logSumExp, mergeStage } from "../src/index.ts"
import { leftPadRows, makeStepFeeds } from "@refine-af/models"
import { cpuBackend, runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const events = { info: () => Effect.void, warn: () => Effect.void, progress: () => Effect.void } as never
// core's ResourceComponent types `uses` as SlotServices applied twice, so a plain object does not type-check; the runtime shape is { backend }.
const slots = (backend: BackendService) => ({ backend }) as never

describe("llama/hf LanguageModel service", () => {
  it("is the plugin's hf resource providing LanguageModel", () => {
    expect(plugin.name).toBe("llama")
    expect(plugin.components.hf).toBe(llamaResource)
    expect(llamaResource.provides).toEqual([LanguageModel, PolicyModel, LlamaCheckpoint])
    expect(plugin.components.merge).toBe(mergeStage)
  })

  it("generates, streams the same text, scores, counts tokens", async () => {
    const folder = tinyModel("qwen2")
    const result = await runScoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      const services = yield* llamaResource.make({ name: "policy", options: { path: folder, max_context: 256 }, seed: 0, uses: slots(backend), events })
      const lm: LanguageModelService = Context.get(services, LanguageModel)
      const policy = Context.get(services, PolicyModel)
      expect(policy.info.id).toBe(lm.info.id)
      expect(policy.info.vocabSize).toBe(151669)
      const request = { prompt: "Once upon a time", params: { maxNewTokens: 12, temperature: 0.9, topK: 50, seed: 5 } }
      const [generated] = yield* lm.generate([request])
      const chunks = yield* Stream.runCollect(lm.stream(request))
      const chat = yield* lm.generate([{ prompt: [{ role: "user", content: "Hi" }], params: { maxNewTokens: 4, temperature: 0 } }])
      const [score] = yield* lm.score([{ prompt: "Once upon a time", continuation: " there was a dragon" }])
      const count = yield* lm.countTokens("The quick brown fox jumps over the lazy dog. Once upon a time")
      return { generated: generated!, chunks: [...chunks], chat: chat[0]!, score: score!, count, info: lm.info }
    }))
    expect(result.generated.tokenIds!.length).toBeGreaterThan(0)
    // A chunk per token, then one that says why it ended and how long the prompt was.
    expect(result.chunks.slice(0, -1).map((c) => c.tokenId)).toEqual(result.generated.tokenIds)
    expect(result.chunks.map((c) => c.text).join("")).toBe(result.generated.text)
    expect(result.chunks.at(-1)).toEqual({ text: "", finish: { reason: result.generated.finishReason, promptTokens: 4 } })
    expect(result.generated.promptTokens).toBe(4)
    // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" is 9 Qwen tokens.
    expect(result.chat.promptTokens).toBe(9)
    expect(result.score.tokenIds!.length).toBe(4)
    expect(result.score.total).toBeCloseTo(result.score.logprobs!.reduce((a, b) => a + b, 0), 6)
    expect(result.score.logprobs!.every((lp) => lp < 0)).toBe(true)
    expect(result.count).toBe(14)
    expect(result.info.id).toMatch(/^llama:/)
    expect(result.info.contextLength).toBe(256)
  })

  it("scores continuations with the log-softmax of a full forward", async () => {
    const folder = tinyModel("llama")
    const { scores, reference } = await runScoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      const loaded = yield* loadLlama(folder, backend, { contextLength: 128 })
      const requests = [
        { prompt: "Hello world", continuation: ", this is a test" },
        { prompt: "The capital of France is", continuation: " Paris." }
      ]
      const scores = yield* loaded.service.score(requests)
      // Reference: all-position logits, log-softmax on the host in float64.
      const reference: Array<Array<number>> = []
      for (const request of requests) {
        const prompt = loaded.tokenizer.encode(request.prompt)
        const ids = [...prompt, ...loaded.tokenizer.encode(request.continuation, { addSpecialTokens: false })]
        const shape = { batch: 1, length: ids.length, cache: 0 }
        const exe = yield* loaded.runtime.executable(shape, "all-logits")
        const out = yield* loaded.runtime.run(exe, makeStepFeeds(loaded.runtime.config, loaded.runtime.frequencies, shape, leftPadRows([ids], ids.length, 0, 0), 0))
        const logits = toFloat64(yield* backend.download(out.logits!))
        const vocab = loaded.runtime.config.vocabSize
        reference.push(ids.slice(prompt.length).map((id, k) => {
          const row = logits.subarray((prompt.length + k - 1) * vocab, (prompt.length + k) * vocab)
          return row[id]! - logSumExp(row)
        }))
      }
      return { scores, reference }
    }))
    scores.forEach((score, i) => {
      expect(score.logprobs!.length).toBe(reference[i]!.length)
      score.logprobs!.forEach((lp, k) => expect(Math.abs(lp - reference[i]![k]!)).toBeLessThan(1e-4))
    })
  })

  it("stops at stop strings and reports typed errors for bad requests and folders", async () => {
    const folder = tinyModel("llama")
    const outcome = await runScoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      const { service } = yield* loadLlama(folder, backend, { contextLength: 64 })
      const [free] = yield* service.generate([{ prompt: "Hello", params: { maxNewTokens: 16, temperature: 0 } }])
      const stopText = free!.text.slice(3, 5)
      const [stopped] = yield* service.generate([{ prompt: "Hello", params: { maxNewTokens: 16, temperature: 0, stop: [stopText] } }])
      const overflow = yield* Effect.flip(service.generate([{ prompt: "word ".repeat(100), params: { maxNewTokens: 4 } }]))
      const badMax = yield* Effect.flip(service.generate([{ prompt: "x", params: { maxNewTokens: -1 } }]))
      const missing = yield* Effect.flip(llamaResource.make({ name: "policy", options: { path: mkdtempSync(nodePath.join(tmpdir(), "empty-model-")) }, seed: 0, uses: slots(backend), events }))
      return { free: free!, stopText, stopped: stopped!, overflow, badMax, missing }
    }))
    expect(outcome.stopped.finishReason).toBe("stop")
    expect(outcome.stopped.text).toBe(outcome.free.text.slice(0, outcome.free.text.indexOf(outcome.stopText)))
    expect(outcome.overflow.reason).toBe("ContextOverflow")
    expect(outcome.badMax.reason).toBe("InvalidRequest")
    expect(outcome.missing._tag).toBe("StageError")
    expect(outcome.missing.message).toContain("config.json")
  })

  it("refuses token ids beyond the model's vocabulary (a tokenizer that does not match) with a clear error", async () => {
    // The tiny model ships the Qwen3 tokenizer (151k tokens); with 512 embedding rows most words fall outside.
    const folder = tinyModel("llama", { set: { vocab_size: 512 } })
    const outcome = await runScoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      const { service } = yield* loadLlama(folder, backend, { contextLength: 64 })
      const generate = yield* Effect.flip(service.generate([{ prompt: "Hello world", params: { maxNewTokens: 4, temperature: 0 } }]))
      const score = yield* Effect.flip(service.score([{ prompt: "Hello", continuation: " world" }]))
      return { generate, score }
    }))
    for (const error of [outcome.generate, outcome.score]) {
      expect(error.reason).toBe("InvalidRequest")
      expect(error.message).toMatch(/token id \d+, outside the model's 512-token vocabulary: the tokenizer does not match the model/)
      expect(error.fix).toMatch(/tokenizer that was saved with this model/)
    }
  })
})
