import { Effect } from "effect"
import { interpret, toFloat64, type HostTensor } from "@refine-af/tensor"
import type { Objective, TokenSequence } from "@refine-af/training"
import { describe, expect, it } from "vitest"
import { placeFeed, policyAccumulateProgram, policyLayout, policyNames } from "../src/index.ts"
import { runScoped } from "./support/runtime.ts"
import { ppoLike, smallPolicy, waveParams } from "./support/policy.ts"

const l2 = (xs: ArrayLike<number>) => Math.sqrt(Array.from(xs).reduce((s, x) => s + x * x, 0))

describe("policy objective gradients (llama trunk)", () => {
  it("the compiled ONNX program's gradients match the float64 interpreter, whose gradients match finite differences", async () => {
    const seqs: Array<TokenSequence> = [{ tokens: [1, 17, 93, 250, 41, 300, 7, 2], promptLength: 4 }, { tokens: [1, 5, 6, 7, 8], promptLength: 2 }]
    const lora = { rank: 2, alpha: 4, targets: ["q_proj", "v_proj"] as const, scale: 2 }
    const r = await runScoped(Effect.gen(function* () {
      const { runtime, config } = yield* smallPolicy
      const layout = policyLayout(runtime, seqs)
      const built = policyAccumulateProgram(config, layout.shape, { ...lora, targets: [...lora.targets] }, ppoLike as Objective<string>)
      const params = waveParams(config, lora)
      const completion = seqs.map((s) => s.tokens.length - s.promptLength)
      const feeds: Record<string, HostTensor> = {
        ...layout.feeds,
        ...params,
        [policyNames.feed("advantages")]: placeFeed(layout, completion.map((n) => Array.from({ length: n }, (_, k) => Math.cos(k)))),
        [policyNames.feed("oldLogprobs")]: placeFeed(layout, completion.map((n) => Array.from({ length: n }, (_, k) => -6 + 0.1 * k))),
        [policyNames.feed("returns")]: placeFeed(layout, completion.map((n) => Array.from({ length: n }, (_, k) => 0.5 - 0.2 * k)))
      }
      for (const c of built.carry) feeds[c.input] = { dtype: "float32", shape: [...c.shape], data: new Float32Array(c.shape.reduce((a, b) => a * b, 1)) }
      const constants: Record<string, HostTensor> = {}
      for (const p of built.program.parameters) if (!p.trainable) constants[p.name] = runtime.weights[p.name]!
      const exe = yield* runtime.backend.compile(built.program, { constants })
      const onnx = yield* runtime.run(exe, feeds)
      const device: Record<string, Float32Array> = {}
      for (const c of built.carry) device[c.input.slice("accum/".length)] = (yield* runtime.backend.download(onnx[c.output]!)).data as Float32Array
      const exact: Record<string, Float64Array> = {}
      for (const [name, t] of Object.entries({ ...constants, ...feeds })) exact[name] = toFloat64(t)
      return { program: built.program, carry: built.carry, exact, device, onnxLoss: (yield* runtime.backend.download(onnx.loss!)).data[0] as number }
    }))
    const reference = interpret(r.program, r.exact)
    expect(r.onnxLoss).toBeCloseTo(reference.loss!.data[0]!, 4)
    let compared = 0
    for (const c of r.carry) {
      const name = c.input.slice("accum/".length)
      const ref = reference[c.output]!.data
      const diff = Array.from(ref, (x, i) => x - r.device[name]![i]!)
      expect(l2(ref)).toBeGreaterThan(0)
      expect(l2(diff) / l2(ref)).toBeLessThan(2e-3)
      compared++
    }
    expect(compared).toBe(2 * 2 * 2 + 2)
    // Central differences of the float64 loss along a few coordinates of each kind of parameter.
    const loss = (feeds: Record<string, Float64Array>) => interpret(r.program, feeds).loss!.data[0]!
    for (const name of ["model.layers.1.self_attn.q_proj.lora_B.weight", "model.layers.0.self_attn.v_proj.lora_A.weight", policyNames.valueWeight, policyNames.valueBias]) {
      const grad = reference[`next/accum/${name}`]!.data
      for (const i of [0, 3].filter((i) => i < grad.length)) {
        const h = 1e-4
        const plus = { ...r.exact, [name]: r.exact[name]!.slice() }
        const minus = { ...r.exact, [name]: r.exact[name]!.slice() }
        plus[name]![i]! += h
        minus[name]![i]! -= h
        const numeric = (loss(plus) - loss(minus)) / (2 * h)
        expect(Math.abs(numeric - grad[i]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)))
      }
    }
  }, 180_000)
})
