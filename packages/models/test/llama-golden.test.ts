/**
 * PyTorch parity of the shipped Llama trunk: the one-layer LM of
 * tools/golden/tensor/make_block_golden.py (float64 torch, HF Llama
 * conventions) built with `llamaTrunk` — loss and every parameter gradient
 * to 1e-4, and two AdamW + clip_grad_norm_ steps.
 */
import * as T from "@refine-af/tensor"
import { describe, expect, it } from "vitest"
import { buildGoldenLm, goldenFeeds, readGolden } from "./support/golden-trunk.ts"
import { initialCarry, runStep } from "./support/loop.ts"

const golden = readGolden()
const goldenParams = Object.fromEntries(Object.entries(golden.params).map(([n, p]) => [n, p.data]))

describe("shipped Llama trunk vs PyTorch (one layer + LM head + masked CE)", () => {
  it("loss and every gradient match torch", () => {
    const { graph, loss } = buildGoldenLm(golden)
    graph.output("loss", loss)
    const program = T.grad(graph.build(), "loss")
    const out = T.interpret(program, goldenFeeds(golden))
    expect(Math.abs(out["loss"]!.data[0]! - golden.loss) / golden.loss).toBeLessThanOrEqual(1e-4)
    const names = Object.keys(golden.grads)
    expect(program.parameters.map((p) => p.name).sort()).toEqual([...names].sort())
    for (const name of names) {
      const err = T.relativeError(out[T.gradName(name)]!.data, golden.grads[name]!)
      expect(err, name).toBeLessThanOrEqual(1e-4)
    }
  })

  it("matches torch AdamW + clip_grad_norm_ over two steps", () => {
    const a = golden.adamw
    const step = T.trainStep(buildGoldenLm(golden).loss, { optimizer: T.adamw({ beta1: a.beta1, beta2: a.beta2, eps: a.eps, weightDecay: a.weight_decay }), clipGradNorm: a.max_grad_norm })
    const carry = initialCarry(step, goldenParams)
    const feeds = goldenFeeds(golden)
    a.after_step.forEach((want, i) => {
      const out = runStep(step, carry, feeds, a.lr, i + 1)
      expect(Math.abs(out["loss"]!.data[0]! - want.loss) / want.loss, `loss at step ${i + 1}`).toBeLessThanOrEqual(1e-4)
      for (const [name, data] of Object.entries(want.params)) {
        const moved = T.relativeError(carry[name]!.map((v, k) => v - goldenParams[name]![k]!), data.map((v, k) => v - goldenParams[name]![k]!))
        expect(moved, `${name} update after step ${i + 1}`).toBeLessThanOrEqual(1e-4)
      }
    })
  })

  it("drives the tiny LM's loss below 5% of its start in 100 steps", () => {
    const step = T.trainStep(buildGoldenLm(golden).loss, { optimizer: T.adamw({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 }), clipGradNorm: 1 })
    const carry = initialCarry(step, goldenParams)
    const feeds = goldenFeeds(golden)
    const losses: Array<number> = []
    for (let i = 1; i <= 100; i++) losses.push(runStep(step, carry, feeds, 3e-2, i)["loss"]!.data[0]!)
    expect(losses[99]!).toBeLessThan(0.05 * losses[0]!)
  })
})
