/**
 * Optimizers as programs (AdamW + clipping against torch on the Llama trunk lives in
 * packages/models/test/llama-golden.test.ts): SGD momentum against a hand-written loop, gradient accumulation against one big step.
 */
import { describe, expect, it } from "vitest"
import * as T from "../src/index.ts"
import { initialCarry, runStep } from "./support/loop.ts"

/** A least-squares model: loss = mean((x·w + b − y)²), with hand-derived gradients for the reference. */
const leastSquares = (g: T.Graph, rows: number) => {
  const x = g.input(`x`, "float64", [rows, 3])
  const y = g.input(`y`, "float64", [rows, 1])
  const w = g.parameter("w", "float64", [3, 1])
  const b = g.parameter("b", "float64", [1])
  return T.mean(T.square(T.sub(T.add(T.matmul(x, w), b), y)))
}
const X = [0.5, -1, 2, 1.5, 0.3, -0.7, -1.2, 0.8, 0.1, 0.4, 0.4, -0.9]
const Y = [1, -2, 0.5, 0.7]
const handGrad = (w: ArrayLike<number>, b: number) => {
  const gw = [0, 0, 0]
  let gb = 0
  for (let r = 0; r < 4; r++) {
    const e = X[3 * r]! * w[0]! + X[3 * r + 1]! * w[1]! + X[3 * r + 2]! * w[2]! + b - Y[r]!
    for (let k = 0; k < 3; k++) gw[k]! += (2 * e * X[3 * r + k]!) / 4
    gb += (2 * e) / 4
  }
  return { gw, gb }
}

describe("SGD with momentum", () => {
  it("matches a hand-written momentum loop", () => {
    const g = new T.Graph()
    const step = T.trainStep(leastSquares(g, 4), { optimizer: T.sgd({ momentum: 0.9, weightDecay: 0.01 }) })
    const carry = initialCarry(step, { w: [0.1, -0.2, 0.3], b: [0] })
    const w = [0.1, -0.2, 0.3]
    let b = 0
    const bw = [0, 0, 0]
    let bb = 0
    for (let i = 1; i <= 5; i++) {
      runStep(step, carry, { x: X, y: Y }, 0.05, i)
      const { gw, gb } = handGrad(w, b)
      for (let k = 0; k < 3; k++) {
        bw[k] = 0.9 * bw[k]! + gw[k]! + 0.01 * w[k]!
        w[k] = w[k]! - 0.05 * bw[k]!
      }
      bb = 0.9 * bb + gb + 0.01 * b
      b -= 0.05 * bb
    }
    expect(T.relativeError(carry["w"]!, w)).toBeLessThan(1e-12)
    expect(T.relativeError(carry["b"]!, [b])).toBeLessThan(1e-12)
  })
})

describe("gradient accumulation", () => {
  it("two accumulated half-batches + apply equal one full-batch step", () => {
    const opts = { optimizer: T.adamw({ weightDecay: 0.05 }), clipGradNorm: 0.5 }
    const full = T.trainStep(leastSquares(new T.Graph(), 4), opts)
    const acc = T.accumulateStep(leastSquares(new T.Graph(), 2))
    const apply = T.applyAccumulated(T.trainableSignatures(acc.program), 2, opts)
    const init = { w: [0.1, -0.2, 0.3], b: [0.05] }

    const fullCarry = initialCarry(full, init)
    runStep(full, fullCarry, { x: X, y: Y }, 0.1, 1)

    const accCarry = initialCarry(acc, init)
    const params = { w: init.w, b: init.b }
    for (const half of [0, 1]) {
      const feeds = { ...params, x: X.slice(6 * half, 6 * half + 6), y: Y.slice(2 * half, 2 * half + 2) }
      const out = T.interpret(acc.program, { ...feeds, ...accCarry })
      for (const b of acc.carry) accCarry[b.input] = out[b.output]!.data
    }
    const applyCarry = initialCarry(apply, init)
    const out = T.interpret(apply.program, { ...applyCarry, ...accCarry, [T.stepInputNames.lr]: [0.1], [T.stepInputNames.step]: [1] })
    expect(T.relativeError(out["next/w"]!.data, fullCarry["w"]!)).toBeLessThan(1e-12)
    expect(T.relativeError(out["next/b"]!.data, fullCarry["b"]!)).toBeLessThan(1e-12)
  })
})
