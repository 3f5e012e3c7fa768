/**
 * A whole training step (forward + backward + AdamW from tensor's `trainStep`)
 * of the shipped Llama trunk (@refine-af/models, every weight trainable) compiled to ONNX: three steps with parameters and optimizer state fed back as
 * device tensors, against the same three steps in the float64 interpreter.
 */
import { leftPadRows, llamaTrunk, lmLogits, makeStepFeeds, maskedCrossEntropy, parseLlamaConfig, ropeFrequencies } from "@refine-af/models"
import * as T from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { withBackend } from "./support/run.ts"

const c = { vocab: 16, hidden: 8, heads: 2, headDim: 4, intermediate: 12, batch: 2, seq: 5 }

const config = Effect.runSync(parseLlamaConfig("train-step", {
  model_type: "llama", vocab_size: c.vocab, hidden_size: c.hidden, intermediate_size: c.intermediate, num_hidden_layers: 1,
  num_attention_heads: c.heads, num_key_value_heads: 1, head_dim: c.headDim, rms_norm_eps: 1e-5, tie_word_embeddings: false
}))

const buildStep = (dtype: T.DType) => {
  const trunk = llamaTrunk(config, { batch: c.batch, length: c.seq, cache: 0 }, { trainableBase: true, dtype })
  const loss = maskedCrossEntropy(trunk, lmLogits(trunk, "all"))
  return T.trainStep(loss, { optimizer: T.adamw({ weightDecay: 0.1 }), clipGradNorm: 1 })
}

const initial = (binding: T.StateBinding, index: number): Float64Array => {
  const n = T.sizeOf(binding.shape)
  if (binding.init === "zeros") return new Float64Array(n)
  if (binding.input.endsWith("norm.weight")) return new Float64Array(n).fill(1)
  return Float64Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.7 + index) * 0.4))
}

describe("training step through ONNX", () => {
  it("three AdamW steps match the float64 interpreter (loss, parameters, optimizer state)", async () => {
    const tokens = Array.from({ length: c.batch * c.seq }, (_, i) => (i * 5 + 3) % c.vocab)
    const rows = Array.from({ length: c.batch }, (_, r) => tokens.slice(r * c.seq, (r + 1) * c.seq))
    const frequencies = ropeFrequencies(config.ropeScaling, config.ropeTheta, config.headDim, config.maxPositionEmbeddings, c.seq)
    const stepFeeds = makeStepFeeds(config, frequencies, { batch: c.batch, length: c.seq, cache: 0 }, leftPadRows(rows, c.seq, 0, 0), 0)
    const batch: Record<string, ArrayLike<number>> = {
      ...Object.fromEntries(Object.entries(stepFeeds).map(([name, t]) => [name, Array.from(t.data as ArrayLike<number | bigint>, Number)])),
      targets: tokens.map((t) => (t * 7 + 1) % c.vocab),
      loss_mask: new Array<number>(c.batch * c.seq).fill(1),
      [T.stepInputNames.lr]: [0.01]
    }
    const reference = buildStep("float64")
    let refState: Record<string, ArrayLike<number>> = {}
    reference.carry.forEach((b, i) => (refState[b.input] = initial(b, i)))
    const refLosses: Array<number> = []
    for (let step = 1; step <= 3; step++) {
      const out = T.interpret(reference.program, { ...batch, ...refState, [T.stepInputNames.step]: [step] })
      refLosses.push(out["loss"]!.data[0]!)
      refState = Object.fromEntries(reference.carry.map((b) => [b.input, out[b.output]!.data]))
    }

    const { program, carry } = buildStep("float32")
    const got = await withBackend((backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program, { keepOnDevice: carry.map((b) => b.output) })
        const specs = new Map(exe.feeds.map((f) => [f.name, f]))
        const host = (name: string, values: ArrayLike<number>) => T.hostTensor(specs.get(name)!.dtype, specs.get(name)!.shape, values)
        let state: Record<string, T.BackendFeed> = {}
        carry.forEach((b, i) => (state[b.input] = host(b.input, initial(b, i))))
        const fixed = Object.fromEntries(Object.entries(batch).map(([k, v]) => [k, host(k, v)]))
        const losses: Array<number> = []
        for (let step = 1; step <= 3; step++) {
          const out = yield* backend.run(exe, { ...fixed, ...state, [T.stepInputNames.step]: host(T.stepInputNames.step, [step]) })
          losses.push(T.toFloat64(yield* backend.download(out["loss"]!))[0]!)
          state = Object.fromEntries(carry.map((b) => [b.input, out[b.output]!]))
        }
        const finalState: Record<string, Float64Array> = {}
        for (const [name, t] of Object.entries(state)) finalState[name] = T.toFloat64(yield* backend.download(t as T.DeviceTensor))
        return { losses, finalState }
      })
    )
    expect(refLosses[2]!).toBeLessThan(refLosses[0]!) // the reference really trains
    for (let i = 0; i < 3; i++) expect(Math.abs(got.losses[i]! - refLosses[i]!) / refLosses[i]!).toBeLessThanOrEqual(1e-5)
    for (const b of carry) expect(T.relativeError(got.finalState[b.input]!, refState[b.input]!), b.input).toBeLessThanOrEqual(1e-4)
  })
})
