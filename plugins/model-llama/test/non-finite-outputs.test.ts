/**
 * Finite weights can still overflow float32 inside the network. Such a model used to
 * "complete" a run with garbage (every prediction `!!!!…`, NaN scores, exit 0); generation
 * and scoring now stop with an error naming the output tensor, and a policy session's
 * `evaluate` (the RL trainers' log-probs / values / entropy) with a `NonFinite`
 * PolicyError naming the batch row.
 */
import { loadModelFolder, loadTokenizer, loadWeights, openWeights, nonFinite } from "@refine-af/models"
import type { HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { generateTokens, makeLlamaPolicyModel, makeLlamaRuntime, scoreSequences } from "../src/index.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

/** The tiny llama with its output projection scaled to 3e38: every weight finite, every logit not. */
const overflowingRuntime = Effect.gen(function* () {
  const folder = tinyModel("llama", { set: { vocab_size: 512 } })
  const backend = yield* cpuBackend
  const model = yield* loadModelFolder(folder)
  const weights: Record<string, HostTensor> = { ...(yield* loadWeights(yield* openWeights(model), model.config, folder)) }
  const head = weights["lm_head.weight"]!
  const huge = (head.data as Float32Array).map((value) => Math.sign(value) * 3e38)
  expect(nonFinite(huge)).toBeUndefined()
  weights["lm_head.weight"] = { ...head, data: huge }
  const tokenizer = yield* loadTokenizer(folder)
  return { runtime: makeLlamaRuntime(backend, model.config, weights, { contextLength: 128, padTokenId: 0 }), tokenizer }
})

describe("non-finite model outputs", () => {
  it("generation fails naming the logits tensor instead of sampling garbage", async () => {
    const error = await runScoped(Effect.gen(function* () {
      const { runtime, tokenizer } = yield* overflowingRuntime
      return yield* Effect.flip(generateTokens(runtime, [{ promptIds: [5, 9, 13], params: { maxNewTokens: 4, temperature: 0 } }], { tokenizer, eosIds: new Set(), contextLength: 128 }))
    }))
    expect(error._tag).toBe("LanguageModelError")
    expect(error.message).toMatch(/output tensor logits \(row 0\) holds \d+ non-finite values? \(first: (NaN|-?Infinity) at index \d+\)/)
    expect("fix" in error && error.fix).toMatch(/re-download, re-convert/)
  })

  it("scoring fails naming the logprobs tensor instead of returning NaN scores", async () => {
    const error = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* overflowingRuntime
      return yield* Effect.flip(scoreSequences(runtime, [{ ids: [5, 9, 13, 17], from: 2 }], 8))
    }))
    expect(error._tag).toBe("LanguageModelError")
    expect(error.message).toMatch(/output tensor logprobs \(row 0\) holds 2 non-finite values/)
  })

  it("a policy session's evaluate fails with NonFinite naming the batch row and head, for the adapter and the reference pass", async () => {
    const errors = await runScoped(Effect.gen(function* () {
      const { runtime, tokenizer } = yield* overflowingRuntime
      const policy = yield* makeLlamaPolicyModel({ runtime, tokenizer, id: "tiny-overflow", contextLength: 128, eosIds: new Set([1]), maxBatch: 4 })
      const session = yield* policy.session({ lora: { rank: 2, alpha: 4, dropout: 0, rsLora: false, targets: ["q_proj"] }, valueHead: true, seed: 1 })
      const batch = [{ tokens: [5, 9, 13], promptLength: 2 }, { tokens: [5, 9, 13, 17], promptLength: 2 }]
      return [yield* Effect.flip(session.evaluate(batch, { values: true, entropy: true })), yield* Effect.flip(session.evaluate(batch, { reference: true }))]
    }))
    for (const error of errors) {
      expect(error._tag).toBe("PolicyError")
      expect(error.reason).toBe("NonFinite")
    }
    expect(errors[0]!.message).toMatch(/^evaluate: the logprobs of batch row 0 hold (NaN|-?Infinity) at completion token 0$/)
    expect(errors[1]!.message).toMatch(/^evaluate \(reference, adapter off\): the logprobs of batch row 0 hold/)
  })
})
