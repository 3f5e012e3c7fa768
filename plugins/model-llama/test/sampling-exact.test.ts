import type { SamplingParams } from "@refine-af/core"
import { describe, expect, it } from "vitest"
import { sampleNext, seededUniform } from "../src/index.ts"
import { FAST_EXP_ABSOLUTE_ERROR, FAST_EXP_RELATIVE_ERROR, fastExp } from "../src/sampling/fast-exp.ts"
import { massThreshold, topKIndices } from "../src/sampling/select.ts"
import { referenceSampleNext } from "./support/full-sort-reference.ts"

/** Logit rows of several shapes: smooth, heavily tied, masked, peaked. */
const makeLogits = (n: number, kind: number, seed: number): Float32Array => {
  const random = seededUniform(seed)
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const z = normal()
    out[i] = kind === 0 ? 3 * z
      : kind === 1 ? Math.round(z * 2) / 2 // few distinct values: ties everywhere, also at every cutoff
      : kind === 2 ? (random() < 0.5 ? -Infinity : 4 * z) // masked vocabulary
      : kind === 3 ? (i % 97 === 0 ? 12 + z : z) // a few dominant tokens, a long flat tail
      : 0 // all equal: cumulative sums land exactly on topP = m / n
  }
  return out
}

const expectSameDraws = (logits: Float32Array, params: SamplingParams, seed: number, draws: number) => {
  const fast = seededUniform(seed)
  const slow = seededUniform(seed)
  for (let d = 0; d < draws; d++) {
    const actual = sampleNext(logits, params, fast, [1, 2, 3], [4, 4])
    const expected = referenceSampleNext(logits, params, slow, [1, 2, 3], [4, 4])
    expect({ ...actual, params, d }).toEqual({ ...expected, params, d })
  }
  // Same number of uniforms consumed: the streams are still in step.
  expect(fast()).toBe(slow())
}

describe("selection sampling matches the full-sort sampler exactly", () => {
  it("on small and medium vocabularies over temperatures, top-k, top-p, penalties and seeds", () => {
    let cases = 0
    for (const n of [1, 2, 3, 7, 10, 64, 1000]) {
      for (let kind = 0; kind < 5; kind++) {
        const logits = makeLogits(n, kind, 100 * n + kind)
        for (const temperature of [0.3, 1, 1.7]) {
          for (const topK of [undefined, 1, 2, 5, 50, n, n + 3]) {
            for (const topP of [undefined, 0, 0.1, 0.3, 0.5, 0.9, 0.95, 0.999999, 1]) {
              const penalties = cases % 3 === 0 ? { repetitionPenalty: 1.3, presencePenalty: 0.5 } : {}
              expectSameDraws(logits, { maxNewTokens: 1, temperature, topK, topP, ...penalties }, cases, 4)
              cases++
            }
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(3000)
  })

  it("when equal logits put cumulative sums exactly on the cutoff", () => {
    for (const n of [3, 10, 20]) {
      const logits = makeLogits(n, 4, n)
      for (let m = 1; m <= n; m++) expectSameDraws(logits, { maxNewTokens: 1, topP: m / n }, m, 8)
    }
  })

  it("when topP is exactly a cumulative sum of the sorted-order sampler (rounding-order sensitive)", () => {
    for (let seed = 0; seed < 4; seed++) {
      const logits = makeLogits(3000, seed % 2 === 0 ? 0 : 3, seed)
      const temperature = 0.8
      const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b)
      const weights = order.map((id) => Math.exp((logits[id]! - logits[order[0]!]!) / temperature))
      const total = weights.reduce((a, b) => a + b, 0)
      let cumulative = 0
      const cutoffs: Array<number> = []
      for (let i = 0; i < order.length; i++) {
        cumulative += weights[i]! / total
        if (i % 61 === 0 && cumulative < 1) cutoffs.push(cumulative)
      }
      for (const topP of cutoffs) expectSameDraws(logits, { maxNewTokens: 1, temperature, topP }, seed, 1)
    }
  })

  it("at the Qwen3 vocabulary size (151,936)", () => {
    const n = 151_936
    for (let kind = 0; kind < 5; kind++) {
      const logits = makeLogits(n, kind, kind + 1)
      for (const [temperature, topK, topP] of [[0.7, undefined, 0.8], [1, 20, 0.95], [0.6, 5000, 0.9], [1.3, undefined, 0.5], [1, 40, undefined]] as const) {
        expectSameDraws(logits, { maxNewTokens: 1, temperature, topK, topP }, 31 * kind + 7, 3)
      }
    }
  })
})

/** A stream that returns the given values, then a seeded tail. */
const scripted = (values: ReadonlyArray<number>): (() => number) => {
  const tail = seededUniform(99)
  let at = 0
  return () => (at < values.length ? values[at++]! : tail())
}

/**
 * Uniforms that put the temperature-only draw's target exactly on, or one ulp
 * either side of, the running sums where its choice changes, as the
 * `Math.exp` draw computes them (sequential subtraction in id order): the
 * draws where fastExp's last-bit differences could pick a neighbour.
 */
const boundaryUniforms = (logits: Float32Array, temperature: number, every: number): Array<number> => {
  let max = -Infinity
  for (const v of logits) if (v > max) max = v
  const weights = Array.from(logits, (v) => Math.exp((v - max) / temperature))
  const mass = weights.reduce((a, b) => a + b, 0)
  const out: Array<number> = []
  let running = 0
  weights.forEach((w, i) => {
    running += w
    if (i % every !== 0) return
    const u = running / mass
    for (const candidate of [u, u * (1 - Number.EPSILON), u * (1 + Number.EPSILON)]) if (candidate < 1) out.push(candidate)
  })
  out.push(1 - Number.EPSILON / 2, 0)
  return out
}

describe("the fast exp behind whole-vocabulary sums", () => {
  it("stays within its stated error of Math.exp from 0 to underflow", () => {
    const random = seededUniform(5)
    let worst = 0
    const check = (x: number) => {
      const exact = Math.exp(x)
      const excess = Math.abs(fastExp(x) - exact) - FAST_EXP_ABSOLUTE_ERROR
      if (excess > 0) worst = Math.max(worst, excess / exact)
    }
    for (let i = 0; i <= 200_000; i++) check((-i * 750) / 200_000)
    for (let i = 0; i < 200_000; i++) check(-random() * 50)
    for (const x of [0, -0, -1e-300, -Number.MIN_VALUE, -690.7, -690.8, -690.9, -745, -746, -1e300, -Infinity]) check(x)
    expect(worst).toBeLessThan(FAST_EXP_RELATIVE_ERROR)
    expect(fastExp(0)).toBe(1)
    expect(fastExp(-Infinity)).toBe(0)
  })

  it("temperature-only draws with the target on a running-sum boundary pick the Math.exp draw's token", () => {
    let draws = 0
    for (const [n, kind, temperature] of [[5000, 0, 1], [5000, 3, 0.7], [3000, 1, 1.3], [151_936, 0, 1]] as const) {
      const logits = makeLogits(n, kind, n + kind)
      const uniforms = boundaryUniforms(logits, temperature, n > 10_000 ? 3001 : 13)
      const params = { maxNewTokens: 1, temperature }
      const fast = scripted(uniforms)
      const slow = scripted(uniforms)
      for (let d = 0; d < uniforms.length; d++) {
        expect({ d, u: uniforms[d], ...sampleNext(logits, params, fast, [], []) }).toEqual({ d, u: uniforms[d], ...referenceSampleNext(logits, params, slow, [], []) })
        draws++
      }
    }
    expect(draws).toBeGreaterThan(1000)
  })

  it("top-p draws whose cutoff is a sorted-order running sum keep the full-sort nucleus at 151,936 tokens", () => {
    const n = 151_936
    for (const kind of [0, 3]) {
      const logits = makeLogits(n, kind, 40 + kind)
      const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b)
      const temperature = 0.9
      const weights = order.map((id) => Math.exp((logits[id]! - logits[order[0]!]!) / temperature))
      const total = weights.reduce((a, b) => a + b, 0)
      let cumulative = 0
      const cutoffs: Array<number> = []
      for (let i = 0; i < 2400; i++) {
        cumulative += weights[i]! / total
        if (i % 397 === 0) cutoffs.push(cumulative)
      }
      for (const topP of cutoffs) expectSameDraws(logits, { maxNewTokens: 1, temperature, topP }, kind, 2)
    }
  })
})

describe("selection helpers", () => {
  it("topKIndices is the first k of a stable descending sort", () => {
    for (let seed = 0; seed < 40; seed++) {
      const values = makeLogits(50 + seed, seed % 4, seed)
      const k = 1 + (seed * 7) % values.length
      const sorted = Array.from(values.keys()).sort((a, b) => values[b]! - values[a]! || a - b)
      const expected = sorted.slice(0, k).sort((a, b) => a - b)
      expect(Array.from(topKIndices(values, k, new Float32Array(values.length)))).toEqual(expected)
    }
  })
  it("massThreshold returns the smallest value whose upper set reaches the mass", () => {
    for (let seed = 0; seed < 40; seed++) {
      const random = seededUniform(seed)
      const weights = Float64Array.from({ length: 30 + seed }, () => Math.round(random() * 8) / 8)
      const need = random() * weights.reduce((a, b) => a + b, 0)
      const massAtLeast = (t: number) => weights.reduce((a, w) => a + (w >= t ? w : 0), 0)
      const threshold = massThreshold(Float64Array.from(weights), weights.length, need)!
      expect(massAtLeast(threshold)).toBeGreaterThanOrEqual(need)
      // No larger weight value would do.
      for (const w of weights) if (w > threshold) expect(massAtLeast(w)).toBeLessThan(need)
    }
    expect(massThreshold(new Float64Array([1, 2]), 2, 4)).toBeUndefined()
  })
})
