import { describe, expect, it } from "vitest"
import { applyPenalties, firstStopIndex, sampleNext, seededUniform } from "../src/index.ts"

const probabilities = [0.1, 0.2, 0.3, 0.4]
const logits = new Float32Array(probabilities.map(Math.log))

const frequencies = (params: Parameters<typeof sampleNext>[1], draws = 20000, seed = 7) => {
  const uniform = seededUniform(seed)
  const counts = [0, 0, 0, 0]
  for (let i = 0; i < draws; i++) counts[sampleNext(logits, params, uniform, [], []).tokenId]!++
  return counts.map((c) => c / draws)
}

// With 20000 draws the standard error of a frequency is below 0.0035; 0.015 is > 4 sigma.
const expectClose = (actual: Array<number>, expected: Array<number>) =>
  actual.forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThan(0.015))

describe("sampling", () => {
  it("greedy takes the argmax and reports the raw log-softmax", () => {
    const { tokenId, logprob } = sampleNext(logits, { maxNewTokens: 1, temperature: 0 }, seededUniform(1), [], [])
    expect(tokenId).toBe(3)
    expect(logprob).toBeCloseTo(Math.log(0.4), 6)
  })
  it("temperature 1 samples the softmax distribution", () => {
    expectClose(frequencies({ maxNewTokens: 1, temperature: 1 }), probabilities)
  })
  it("temperature 0.5 squares the probabilities", () => {
    expectClose(frequencies({ maxNewTokens: 1, temperature: 0.5 }), [1, 4, 9, 16].map((x) => x / 30))
  })
  it("top-k keeps the k most likely tokens, renormalised", () => {
    expectClose(frequencies({ maxNewTokens: 1, topK: 2 }), [0, 0, 3 / 7, 4 / 7])
  })
  it("top-p keeps the smallest set reaching the mass", () => {
    expectClose(frequencies({ maxNewTokens: 1, topP: 0.5 }), [0, 0, 3 / 7, 4 / 7])
    expectClose(frequencies({ maxNewTokens: 1, topP: 0.35 }), [0, 0, 0, 1])
  })
  it("the logprob stays that of the raw model distribution whatever the temperature", () => {
    const { tokenId, logprob } = sampleNext(logits, { maxNewTokens: 1, temperature: 3 }, seededUniform(3), [], [])
    expect(logprob).toBeCloseTo(Math.log(probabilities[tokenId]!), 6)
  })
  it("the same seed reproduces the samples and another seed differs", () => {
    const draw = (seed: number) => {
      const uniform = seededUniform(seed)
      return Array.from({ length: 50 }, () => sampleNext(logits, { maxNewTokens: 1 }, uniform, [], []).tokenId)
    }
    expect(draw(42)).toEqual(draw(42))
    expect(draw(42)).not.toEqual(draw(43))
  })
  it("uniform streams lie in [0, 1) with mean near 1/2", () => {
    const uniform = seededUniform(9)
    let total = 0
    for (let i = 0; i < 10000; i++) {
      const u = uniform()
      expect(u >= 0 && u < 1).toBe(true)
      total += u
    }
    expect(Math.abs(total / 10000 - 0.5)).toBeLessThan(0.01)
  })
})

describe("penalties and stops", () => {
  it("repetition penalty divides positive and multiplies negative logits of seen tokens once", () => {
    const values = new Float32Array([2, -2, 1, 3])
    applyPenalties(values, [0, 1, 0], [1], { repetitionPenalty: 2 })
    expect([...values]).toEqual([1, -4, 1, 3])
  })
  it("presence and frequency penalties subtract per generated occurrence", () => {
    const values = new Float32Array([2, -2, 1, 3])
    applyPenalties(values, [3], [0, 0, 2], { presencePenalty: 0.5, frequencyPenalty: 0.25 })
    expect([...values]).toEqual([1, -2, 0.25, 3])
  })
  it("penalties can change the greedy choice", () => {
    const values = new Float32Array([1, 3, 2.5])
    expect(sampleNext(values, { maxNewTokens: 1, temperature: 0, repetitionPenalty: 1.5 }, seededUniform(1), [1], []).tokenId).toBe(2)
  })
  it("finds the earliest stop string", () => {
    expect(firstStopIndex("abc\n\nInput: x", ["Input:", "\n\n"])).toBe(3)
    expect(firstStopIndex("abc", ["x", ""])).toBe(-1)
    expect(firstStopIndex("abc", undefined)).toBe(-1)
  })
})
