import { readFileSync } from "node:fs"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loraModulePath, makeLoraTrainer, projectionShape, type LoraAdapter, type LoraPair, type SftSequence } from "../src/index.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"
import { repoRoot, tinyModel } from "./support/tiny-model.ts"
import { makeLlamaRuntime } from "../src/index.ts"
import { loadWeights, openWeights, projectionsOf } from "@refine-af/models"
import { loadModelFolder } from "@refine-af/models"

interface LoraGolden {
  readonly rank: number
  readonly alpha: number
  readonly sequences: ReadonlyArray<SftSequence>
  readonly loss: number
  readonly modules: Record<string, { gradANorm: number; gradBNorm: number; gradA?: Array<number>; gradB?: Array<number> }>
}
/**
 * The PyTorch LoRA goldens: llama, qwen3 (its q/k head norms between the q/k adapters and
 * attention), olmo2 (q/k norms over the projections, norms after each branch), olmo3 (olmo2's layer, a
 * sliding one among them), smollm3 (a layer
 * without rotary), granite (multipliers on every path), gemma2 (soft-capped scores and logits) and
 * gemma3 ((1 + weight) norms before and after both branches, the GELU gate, a second rotary table
 * for its sliding layer) and phi3 (adapters on its fused qkv_proj and gate_up_proj, half of each head rotating).
 */
const goldens = {
  llama: "golden-lora-grad.json",
  qwen3: "golden-lora-grad-qwen3.json",
  olmo2: "golden-lora-grad-olmo2.json",
  olmo3: "golden-lora-grad-olmo3.json",
  smollm3: "golden-lora-grad-smollm3.json",
  granite: "golden-lora-grad-granite.json",
  gemma2: "golden-lora-grad-gemma2.json",
  gemma3_text: "golden-lora-grad-gemma3.json",
  phi3: "golden-lora-grad-phi3.json"
} as const
const loraGolden = (preset: keyof typeof goldens): LoraGolden => JSON.parse(readFileSync(nodePath.join(repoRoot, "tools/golden/llama", goldens[preset]), "utf8"))
const golden = loraGolden("llama")

/** A 512-token preset on a CPU backend (the LoRA tests train on token ids directly). */
const smallVocabRuntime = (preset: keyof typeof goldens = "llama") => Effect.gen(function* () {
  const folder = tinyModel(preset, { set: { vocab_size: 512 } })
  const backend = yield* cpuBackend
  const model = yield* loadModelFolder(folder)
  const weights = yield* loadWeights(yield* openWeights(model), model.config, folder)
  return makeLlamaRuntime(backend, model.config, weights, { contextLength: 64, padTokenId: 0 })
})

/** The golden script's closed-form initial adapter (B non-zero so every gradient is informative). */
const closedFormAdapter = (config: Parameters<typeof projectionShape>[0], rank: number, alpha: number): LoraAdapter => {
  const pairs = new Map<string, LoraPair>()
  for (let layer = 0; layer < config.numLayers; layer++) {
    projectionsOf(config).forEach((target, t) => {
      const [outFeatures, inFeatures] = projectionShape(config, target)
      const a = new Float32Array(rank * inFeatures)
      const b = new Float32Array(outFeatures * rank)
      for (let k = 0; k < rank; k++) for (let i = 0; i < inFeatures; i++) a[k * inFeatures + i] = 0.05 * Math.sin(0.37 * (k + 1) + 0.11 * (i + 1) + 1.3 * layer + 0.7 * t)
      for (let o = 0; o < outFeatures; o++) for (let k = 0; k < rank; k++) b[o * rank + k] = 0.05 * Math.cos(0.23 * (o + 1) + 0.19 * (k + 1) + 1.1 * layer + 0.5 * t)
      const module = loraModulePath(layer, target)
      pairs.set(module, { module, inFeatures, outFeatures, a, b })
    })
  }
  return { config: { r: rank, alpha, dropout: 0, targetModules: [...projectionsOf(config)], useRsLora: false, baseModelNameOrPath: null }, pairs }
}

const norm = (values: ArrayLike<number>) => Math.sqrt(Array.from(values).reduce((s, v) => s + v * v, 0))

describe("LoRA training on the compute core", () => {
  it.each([["llama", false], ["llama", true], ["qwen3", false], ["qwen3", true], ["olmo2", false], ["olmo2", true], ["olmo3", false], ["smollm3", false], ["granite", false], ["granite", true], ["gemma2", false], ["gemma3_text", false], ["gemma3_text", true], ["phi3", false], ["phi3", true]] as const)("%s: first-step loss and LoRA gradients match PyTorch autograd (gradient checkpointing: %s)", async (preset, gradientCheckpointing) => {
    const golden = loraGolden(preset)
    const result = await runScoped(Effect.gen(function* () {
      const runtime = yield* smallVocabRuntime(preset)
      const trainer = yield* makeLoraTrainer(runtime, closedFormAdapter(runtime.config, golden.rank, golden.alpha), { batch: 2, length: 8, learningRate: 0, gradientCheckpointing })
      return yield* trainer.gradients(golden.sequences)
    }))
    expect(Math.abs(result.loss - golden.loss) / golden.loss).toBeLessThan(1e-5)
    let worstNorm = 0
    for (const [module, expected] of Object.entries(golden.modules)) {
      const gradA = result.gradients[`${module}.lora_A.weight`]!
      const gradB = result.gradients[`${module}.lora_B.weight`]!
      worstNorm = Math.max(worstNorm, Math.abs(norm(gradA) - expected.gradANorm) / expected.gradANorm, Math.abs(norm(gradB) - expected.gradBNorm) / expected.gradBNorm)
      for (const [actual, reference] of [[gradA, expected.gradA], [gradB, expected.gradB]] as const) {
        if (!reference) continue
        const scale = Math.max(...reference.map(Math.abs))
        const error = Math.max(...reference.map((r, i) => Math.abs(actual[i]! - r))) / scale
        expect(error).toBeLessThan(1e-4)
      }
    }
    console.log(`LoRA gradients: worst relative norm error ${worstNorm.toExponential(2)} over ${Object.keys(golden.modules).length * 2} matrices`)
    expect(worstNorm).toBeLessThan(1e-4)
  })

  it("an SFT loop with AdamW and masked prompts cuts the loss on a fixed dataset by at least 90%", async () => {
    // Four short "instruction → response" examples as token ids; only responses are learned.
    const dataset: Array<SftSequence> = [
      { ids: [10, 11, 12, 200, 201, 202, 203], promptLength: 3 },
      { ids: [20, 21, 300, 301, 302, 303, 304], promptLength: 2 },
      { ids: [30, 31, 32, 33, 400, 401, 402], promptLength: 4 },
      { ids: [40, 41, 42, 500, 501, 502, 503, 504], promptLength: 3 }
    ]
    const losses = await runScoped(Effect.gen(function* () {
      const runtime = yield* smallVocabRuntime()
      const init = closedFormAdapter(runtime.config, 8, 16)
      // PEFT starts from B = 0 (the adapted model equals the base model).
      for (const pair of init.pairs.values()) pair.b.fill(0)
      const trainer = yield* makeLoraTrainer(runtime, init, { batch: 4, length: 8, learningRate: 1e-2 })
      const history: Array<number> = []
      for (let step = 0; step < 60; step++) history.push(yield* trainer.step(dataset))
      const final = (yield* trainer.gradients(dataset)).loss
      return { history, final }
    }))
    console.log(`SFT loss: ${losses.history[0]!.toFixed(3)} → ${losses.final.toFixed(4)} after ${losses.history.length} steps`)
    expect(losses.final).toBeLessThan(0.1 * losses.history[0]!)
  })

  it("LoRA dropout is applied in training steps, reproducible per seed, and still learns", async () => {
    const dataset: Array<SftSequence> = [
      { ids: [10, 11, 12, 200, 201, 202, 203], promptLength: 3 },
      { ids: [20, 21, 300, 301, 302, 303, 304], promptLength: 2 }
    ]
    const run = (dropout: number, seed: number, steps: number) =>
      Effect.gen(function* () {
        const runtime = yield* smallVocabRuntime()
        const base = closedFormAdapter(runtime.config, 8, 16)
        const adapter = { ...base, config: { ...base.config, dropout } }
        const trainer = yield* makeLoraTrainer(runtime, adapter, { batch: 2, length: 8, learningRate: 1e-2, seed })
        const evalBefore = (yield* trainer.gradients(dataset)).loss
        const history: Array<number> = []
        for (let step = 0; step < steps; step++) history.push(yield* trainer.step(dataset))
        return { evalBefore, history, evalAfter: (yield* trainer.gradients(dataset)).loss }
      })
    const result = await runScoped(Effect.gen(function* () {
      return { plain: yield* run(0, 1, 1), a: yield* run(0.3, 1, 40), again: yield* run(0.3, 1, 3), other: yield* run(0.3, 2, 1) }
    }))
    // Without dropout the first step's loss is the eval loss; with dropout it is not (B ≠ 0 in this init).
    expect(Math.abs(result.plain.history[0]! - result.plain.evalBefore)).toBeLessThan(1e-5)
    expect(Math.abs(result.a.history[0]! - result.a.evalBefore)).toBeGreaterThan(1e-3)
    expect(result.again.history).toEqual(result.a.history.slice(0, 3))
    expect(result.other.history[0]).not.toBe(result.a.history[0])
    expect(result.a.evalAfter).toBeLessThan(0.1 * result.a.evalBefore)
  })
})
