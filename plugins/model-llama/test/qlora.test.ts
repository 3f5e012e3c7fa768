/**
 * QLoRA: LoRA training and policy sessions on an int4-quantised frozen base.
 * The adapter, value head and AdamW state stay float32; the result must equal
 * training on a float32 base holding exactly the dequantised weights (the
 * quantised programs compute with those values, through MatMulNBits forward
 * and DequantizeLinear in the backward pass).
 */
import { loadModelFolder, loadTokenizer, loadWeights, openWeights } from "@refine-af/models"
import { dequantiseWeight, quantiseWeight, type BackendService, type HostTensor, type Program, type QuantisedWeight } from "@refine-af/tensor"
import { nllObjective, type TokenSequence } from "@refine-af/training"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeLlamaPolicyModel, makeLlamaRuntime, storedBelowFloat32 } from "../src/index.ts"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const lora = { rank: 4, alpha: 8, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj", "down_proj"] }
const sft: TokenSequence = { tokens: [1, 17, 93, 250, 41, 300, 7, 120, 2], promptLength: 4 }

/** Two policies over the same model: int4-quantised base, and float32 base = its dequantised values. `compiled` records every program compiled. */
const policies = (compiled: Array<Program> = [], preset: "llama" | "phi3" = "llama") => Effect.gen(function* () {
  const folder = tinyModel(preset, { set: { vocab_size: 512 } })
  // nbits: MatMulNBits with float32 activations, so the forward programs compute exactly with the dequantised weights.
  const onnx = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false, quantisedMatMul: "nbits" })
  const backend: BackendService = { ...onnx, compile: (program, options) => (compiled.push(program), onnx.compile(program, options)) }
  const model = yield* loadModelFolder(folder)
  const tokenizer = yield* loadTokenizer(folder)
  const float32 = yield* loadWeights(yield* openWeights(model), model.config, folder)
  const kept: Record<string, HostTensor> = {}
  const quantised: Record<string, QuantisedWeight> = {}
  const dequantised: Record<string, HostTensor> = {}
  for (const [name, tensor] of Object.entries(float32)) {
    if (!storedBelowFloat32("int4", name, tensor.shape)) {
      kept[name] = tensor
      dequantised[name] = tensor
      continue
    }
    quantised[name] = quantiseWeight(tensor.data as Float32Array, tensor.shape, "int4", 16)
    dequantised[name] = { dtype: "float32", shape: tensor.shape, data: dequantiseWeight(quantised[name]!) }
  }
  const make = (runtime: ReturnType<typeof makeLlamaRuntime>, id: string) =>
    makeLlamaPolicyModel({ runtime, tokenizer, id, contextLength: 64, eosIds: new Set([2]), maxBatch: 8 })
  const options = { contextLength: 64, padTokenId: 0 }
  return {
    int4: yield* make(makeLlamaRuntime(backend, model.config, kept, { ...options, quantised }), "int4"),
    reference: yield* make(makeLlamaRuntime(backend, model.config, dequantised, options), "dequantised"),
    quantisedCount: Object.keys(quantised).length
  }
})

describe("QLoRA on an int4 base", () => {
  // phi3: its fused qkv_proj and gate_up_proj are quantised as one matrix each, and adapted as PEFT adapts them.
  it.each([
    ["llama", lora, 14], // 2 layers × 7 projections
    ["phi3", { ...lora, targets: ["qkv_proj", "gate_up_proj"] }, 8] // 2 layers × 4 projections
  ] as const)("%s: LoRA steps, values and reference logprobs equal a float32 base holding the dequantised weights", async (preset, adapter, projections) => {
    const r = await runScoped(Effect.gen(function* () {
      const { int4, reference, quantisedCount } = yield* policies([], preset)
      const run = (policy: typeof int4) =>
        Effect.gen(function* () {
          const session = yield* policy.session({ lora: adapter, valueHead: true, seed: 3 })
          const losses: Array<number> = []
          for (let i = 0; i < 6; i++) losses.push((yield* session.step(nllObjective, [sft], {}, { lr: 0.02, clipGradNorm: 1 })).loss)
          const [heads] = yield* session.evaluate([sft], { values: true })
          const [base] = yield* session.evaluate([sft], { reference: true })
          return { losses, logprobs: heads!.logprobs, values: heads!.values ?? [], base: base!.logprobs }
        })
      return { quantised: yield* run(int4), dequantised: yield* run(reference), quantisedCount }
    }))
    expect(r.quantisedCount).toBe(projections)
    const close = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
      expect(a.length).toBe(b.length)
      a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(b[i]!))))
    }
    close(r.quantised.losses, r.dequantised.losses)
    close(r.quantised.logprobs, r.dequantised.logprobs)
    close(r.quantised.values, r.dequantised.values)
    close(r.quantised.base, r.dequantised.base)
    expect(r.quantised.losses[5]!).toBeLessThan(r.quantised.losses[0]!) // and it learns
  }, 180_000)

  it("gradient checkpointing gives the same steps on both bases, one-program and accumulated, and recomputes every layer", async () => {
    const compiled: Array<Program> = []
    const r = await runScoped(Effect.gen(function* () {
      const { int4, reference } = yield* policies(compiled)
      const run = (policy: typeof int4, gradientCheckpointing: boolean) =>
        Effect.gen(function* () {
          const session = yield* policy.session({ lora: { ...lora, dropout: 0.1 }, valueHead: true, seed: 5, gradientCheckpointing })
          const losses: Array<number> = []
          for (let i = 0; i < 3; i++) losses.push((yield* session.step(nllObjective, [sft], {}, { lr: 0.02, clipGradNorm: 1 })).loss)
          const accumulated = yield* session.step(nllObjective, [sft, { ...sft, tokens: sft.tokens.slice(0, 7) }], {}, { lr: 0.02, clipGradNorm: 1, microBatchSize: 1 })
          losses.push(accumulated.loss, accumulated.gradNorm)
          const [heads] = yield* session.evaluate([sft], { values: true })
          return [...losses, ...heads!.logprobs, ...(heads!.values ?? [])]
        })
      return {
        int4: { plain: yield* run(int4, false), checkpointed: yield* run(int4, true) },
        float32: { plain: yield* run(reference, false), checkpointed: yield* run(reference, true) }
      }
    }))
    for (const base of [r.int4, r.float32]) {
      expect(base.checkpointed.length).toBe(base.plain.length)
      base.checkpointed.forEach((v, i) => expect(Math.abs(v - base.plain[i]!), `value ${i}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(base.plain[i]!))))
    }
    // The training programs (they output a loss) come in pairs; the checkpointed one runs each layer's attention twice.
    const softmaxes = compiled.filter((p) => p.outputs.some((o) => o.name === "loss")).map((p) => p.nodes.filter((n) => n.op === "Softmax").length)
    expect(softmaxes.filter((n) => n === 2)).toHaveLength(4) // plain train + accumulate programs, int4 and float32: one per layer
    expect(softmaxes.filter((n) => n === 4)).toHaveLength(4) // checkpointed: forward + recomputation
  }, 180_000)
})
