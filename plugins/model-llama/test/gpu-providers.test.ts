/**
 * The model on a GPU provider against the same model on the CPU: greedy
 * generation (the GPU keeps its KV cache on the device, the CPU in host
 * arrays: each provider's default), sampling at temperature 1,
 * scoring, three LoRA steps and a reference pass, with shared and baked
 * weights, and the same with rows sharing one prompt (shared-prompt programs:
 * the gather of the prompt's keys and values, and its scatter-add backward). Greedy tokens must be equal; log-probabilities and losses within
 * float32 rounding of a different kernel order. Run by tools/gpu-check on an
 * NVIDIA machine; without a GPU, WebGPU runs on Mesa lavapipe:
 *   source .cache/lavapipe/env.sh (tools/lavapipe/get-lavapipe.sh) && REFINE_AF_WEBGPU=1 npx vitest run test/gpu-providers.test.ts
 * Skipped (with the reason printed) unless REFINE_AF_WEBGPU=1 or REFINE_AF_CUDA=1.
 */
import { makeOnnxBackend, type Provider } from "@refine-af/backend-onnx"
import { nllObjective, type TokenSequence } from "@refine-af/training"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadLlama, scoreSequences, type WeightMode } from "../src/index.ts"
import { runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const providers = (["webgpu", "cuda"] as const).filter((p) => process.env[p === "webgpu" ? "REFINE_AF_WEBGPU" : "REFINE_AF_CUDA"] === "1")
if (providers.length === 0) console.log("gpu provider tests skipped: set REFINE_AF_WEBGPU=1 (a Vulkan driver; tools/lavapipe/get-lavapipe.sh without a GPU) or REFINE_AF_CUDA=1")

const lora = { rank: 4, alpha: 8, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj", "down_proj"] }
const sft: TokenSequence = { tokens: [1, 17, 93, 250, 41, 300, 7, 120, 2], promptLength: 4 }
const prompts = ["one two", "three four five"]
/** Four completions of one 40-token prompt: evaluation, training and scoring take the shared-prompt layout. */
const question = Array.from({ length: 40 }, (_, i) => 3 + ((i * 37) % 250))
const group: Array<TokenSequence> = [[5, 9, 2], [6, 2], [7, 8, 9], [11]].map((completion) => ({ tokens: [...question, ...completion], promptLength: question.length }))

const workload = (provider: Provider, weightMode: WeightMode) =>
  runScoped(Effect.gen(function* () {
    const fallbacks: Array<string> = []
    const backend = yield* makeOnnxBackend({ provider, threads: 0, worker: false, float16Weights: false }, (_, reason) => fallbacks.push(reason))
    const loaded = yield* loadLlama(tinyModel("llama"), backend, { contextLength: 64, maxBatch: 4, weightMode })
    const kvCache = yield* loaded.runtime.kvCache
    const greedy = yield* loaded.service.generate(prompts.map((prompt) => ({ prompt, params: { maxNewTokens: 6, temperature: 0 } })))
    const sampled = yield* loaded.service.generate(prompts.map((prompt) => ({ prompt, params: { maxNewTokens: 4, temperature: 1 } })))
    const scores = yield* scoreSequences(loaded.runtime, [{ ids: sft.tokens, from: 4 }], 4)
    const session = yield* loaded.policy.session({ lora, seed: 3 })
    const losses: Array<number> = []
    for (let i = 0; i < 3; i++) losses.push((yield* session.step(nllObjective, [sft], {}, { lr: 0.02, clipGradNorm: 1 })).loss)
    const [reference] = yield* session.evaluate([sft], { reference: true })
    for (let i = 0; i < 2; i++) losses.push((yield* session.step(nllObjective, group, {}, { lr: 0.02, clipGradNorm: 1 })).loss)
    const groupHeads = yield* session.evaluate(group, { entropy: true })
    const groupScores = yield* scoreSequences(loaded.runtime, group.map((g) => ({ ids: g.tokens, from: g.promptLength })), 4)
    return {
      greedy: greedy.map((g) => g.tokenIds),
      sampled: sampled.map((g) => g.tokenIds?.length),
      scores: [...scores.flat(), ...groupScores.flat()],
      losses,
      reference: [...reference!.logprobs, ...groupHeads.flatMap((h) => [...h.logprobs, ...h.entropy!])],
      fallbacks,
      kvCache
    }
  }))

const maxRelative = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.max(1, Math.abs(b[i]!))))

describe.runIf(providers.length > 0)("the model on a GPU provider", () => {
  for (const provider of providers) {
    it.each(["shared", "baked"] as const)(`${provider}, weight_mode %s: the CPU's greedy tokens, scores, LoRA losses and reference within float32 rounding`, async (weightMode) => {
      const cpu = await workload("cpu", weightMode)
      const gpu = await workload(provider, weightMode)
      expect(gpu.fallbacks).toEqual([])
      expect([cpu.kvCache, gpu.kvCache]).toEqual(["host", "device"])
      expect(gpu.greedy).toEqual(cpu.greedy)
      expect(gpu.sampled).toEqual([4, 4])
      // Measured on lavapipe: ≤ 2e-6 relative (scores, reference), ≤ 1e-5 (losses after three steps).
      expect(maxRelative(gpu.scores, cpu.scores)).toBeLessThan(1e-4)
      expect(maxRelative(gpu.reference, cpu.reference)).toBeLessThan(1e-4)
      expect(maxRelative(gpu.losses, cpu.losses)).toBeLessThan(1e-3)
    }, 600_000)
  }
})
