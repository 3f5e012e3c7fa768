/**
 * A whole training step (forward + backward + AdamW from tensor's `trainStep`)
 * compiled to ONNX: three steps with parameters and optimizer state fed back as
 * device tensors, against the same three steps in the float64 interpreter.
 */
import * as T from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { withBackend } from "./support/run.ts"

const c = { vocab: 16, hidden: 8, heads: 2, headDim: 4, intermediate: 12, batch: 2, seq: 5 }

const buildStep = (dtype: T.DType) => {
  const g = new T.Graph()
  const shape = [c.batch, c.seq]
  const tokens = g.input("input_ids", "int64", shape)
  const targets = g.input("targets", "int64", shape)
  const positions = g.input("positions", "int64", shape)
  const layer: T.DecoderLayerConfig = { hidden: c.hidden, numHeads: c.heads, numKvHeads: 1, headDim: c.headDim, intermediate: c.intermediate, rmsNormEps: 1e-5 }
  const embed = g.parameter("embed", dtype, [c.vocab, c.hidden])
  const block = T.decoderLayerParams(g, "layer", layer, { dtype })
  const head = T.linearParams(g, "head", c.hidden, c.vocab, { dtype })
  const rope = T.rotaryTables(positions, c.headDim, 10000, dtype)
  const h = T.decoderLayer(T.embedding(embed, tokens), block, layer, rope)
  const loss = T.crossEntropy(T.applyLinear(h, head), targets)
  return T.trainStep(loss, { optimizer: T.adamw({ weightDecay: 0.1 }), clipGradNorm: 1 })
}

const initial = (binding: T.StateBinding, index: number): Float64Array => {
  const n = T.sizeOf(binding.shape)
  if (binding.init === "zeros") return new Float64Array(n)
  if (binding.input.endsWith("layernorm.weight")) return new Float64Array(n).fill(1)
  return Float64Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.7 + index) * 0.4))
}

describe("training step through ONNX", () => {
  it("three AdamW steps match the float64 interpreter (loss, parameters, optimizer state)", async () => {
    const tokens = Array.from({ length: c.batch * c.seq }, (_, i) => (i * 5 + 3) % c.vocab)
    const batch = {
      input_ids: tokens,
      targets: tokens.map((t) => (t * 7 + 1) % c.vocab),
      positions: Array.from({ length: c.batch * c.seq }, (_, i) => i % c.seq),
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
