/**
 * Test helpers for PolicyModel tests: the 512-token tiny llama as a policy
 * (tests work on token ids; its Qwen tokenizer's ids do not fit the vocabulary)
 * and a PPO-like objective that reads every head and feed.
 */
import { add, clip, div, exp, maximum, minimum, mul, neg, square, sub, sum, type HostTensor } from "@refine-af/tensor"
import type { Objective } from "@refine-af/training"
import { Effect } from "effect"
import { loadModelFolder, loadTokenizer, loadWeights, openWeights, type LlamaConfig, type LlamaProjection } from "@refine-af/models"
import { loraModulePath, makeLlamaPolicyModel, makeLlamaRuntime, policyNames, projectionShape } from "../../src/index.ts"
import { cpuBackend } from "./runtime.ts"
import { tinyModel } from "./tiny-model.ts"

export const EOS = 2

/** A 512-token tiny preset (and config overrides) as a policy (its runtime, backend, tokenizer and config alongside). */
export const smallPolicyOf = (preset: "llama" | "gemma3_text" | "phi3", set: Readonly<Record<string, unknown>> = {}) => Effect.gen(function* () {
  const folder = tinyModel(preset, { set: { vocab_size: 512, ...set } })
  const backend = yield* cpuBackend
  const model = yield* loadModelFolder(folder)
  const weights = yield* loadWeights(yield* openWeights(model), model.config, folder)
  const runtime = makeLlamaRuntime(backend, model.config, weights, { contextLength: 64, padTokenId: 0 })
  const tokenizer = yield* loadTokenizer(folder)
  const policy = yield* makeLlamaPolicyModel({ runtime, tokenizer, id: "tiny-llama-512", contextLength: 64, eosIds: new Set([EOS]), maxBatch: 8 })
  return { policy, runtime, backend, tokenizer, config: model.config }
})

export const smallPolicy = smallPolicyOf("llama")

/** Clipped surrogate + value MSE − entropy bonus, with an approx-KL metric. */
export const ppoLike: Objective<"advantages" | "oldLogprobs" | "returns"> = {
  id: "test-ppo-like",
  heads: ["values", "entropy"],
  feeds: ["advantages", "oldLogprobs", "returns"],
  loss: ({ logprobs, values, entropy, mask }, { advantages, oldLogprobs, returns }) => {
    const n = maximum(sum(mask), 1)
    const ratio = exp(sub(logprobs, oldLogprobs))
    const surrogate = minimum(mul(ratio, advantages), mul(clip(ratio, 0.8, 1.2), advantages))
    const policy = neg(div(sum(mul(surrogate, mask)), n))
    const value = div(sum(mul(square(sub(values!, returns)), mask)), n)
    return sub(add(policy, mul(value, 0.5)), mul(div(sum(mul(entropy!, mask)), n), 0.01))
  },
  metrics: ({ logprobs, mask }, { oldLogprobs }) => ({ approxKl: div(sum(mul(sub(oldLogprobs, logprobs), mask)), maximum(sum(mask), 1)) })
}



/** A deterministic pseudo-random float32 tensor. */
export const wave = (shape: ReadonlyArray<number>, phase: number, amplitude: number): HostTensor => {
  const n = shape.reduce((a, b) => a * b, 1)
  return { dtype: "float32", shape: [...shape], data: Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin(0.7 * i + phase) * Math.cos(0.13 * i)) }
}

/** Value head and LoRA factors (non-zero B, so the adapter acts) as `wave` tensors, by parameter name. */
export const waveParams = (config: LlamaConfig, lora: { readonly rank: number; readonly targets: ReadonlyArray<LlamaProjection> }): Record<string, HostTensor> => {
  const params: Record<string, HostTensor> = { [policyNames.valueWeight]: wave([1, config.hiddenSize], 0.3, 0.2), [policyNames.valueBias]: wave([1], 1.1, 0.5) }
  let phase = 0
  for (let layer = 0; layer < config.numLayers; layer++)
    for (const target of lora.targets) {
      const [out, input] = projectionShape(config, target)
      params[`${loraModulePath(layer, target)}.lora_A.weight`] = wave([lora.rank, input], (phase += 0.9), 0.1)
      params[`${loraModulePath(layer, target)}.lora_B.weight`] = wave([out, lora.rank], (phase += 0.9), 0.1)
    }
  return params
}

/** The largest |a − b| relative to |b| (floored at 1e-3). */
export const maxRelative = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1e-3, Math.abs(b[i]!)))
  return worst
}
