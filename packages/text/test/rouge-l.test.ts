import { describe, expect, it } from "vitest"
import { EmptyReferencesError, rougeL, rougeLFromLcs, rougeLMax } from "../src/index.ts"
import { randomInt, seededRandom } from "./support/seeded-random.ts"

/** Independent LCS: longest subsequence of `left`, by exhaustive enumeration, that is a subsequence of `right`. */
const bruteForceLcs = (left: ReadonlyArray<string>, right: ReadonlyArray<string>): number => {
  let best = 0
  for (let subset = 0; subset < 1 << left.length; subset++) {
    const picked = left.filter((_, k) => subset & (1 << k))
    if (picked.length <= best) continue
    let position = 0
    for (const token of right) if (position < picked.length && token === picked[position]) position++
    if (position === picked.length) best = picked.length
  }
  return best
}

/** rouge_score's `_score_lcs` written out from its source description, as the spec. */
const specFMeasure = (lcs: number, predictionLength: number, targetLength: number): number => {
  if (predictionLength === 0 || targetLength === 0) return 0
  const precision = lcs / predictionLength
  const recall = lcs / targetLength
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0
}

describe("rougeL", () => {
  it("matches an exhaustive-search LCS and the rouge_score formula on small random texts", () => {
    const random = seededRandom(5)
    const words = ["a", "b", "c", "d", "e"]
    for (let trial = 0; trial < 500; trial++) {
      const prediction = Array.from({ length: randomInt(random, 9) }, () => words[randomInt(random, words.length)]!)
      const target = Array.from({ length: randomInt(random, 9) }, () => words[randomInt(random, words.length)]!)
      const lcs = bruteForceLcs(prediction, target)
      const score = rougeL(prediction.join(" "), target.join(" "))
      expect(score.fmeasure).toBe(specFMeasure(lcs, prediction.length, target.length))
      if (prediction.length > 0 && target.length > 0) {
        expect(score.precision).toBe(lcs / prediction.length)
        expect(score.recall).toBe(lcs / target.length)
      }
    }
  })

  it("is symmetric bit for bit (Self-Instruct scores in either order)", () => {
    const random = seededRandom(6)
    for (let trial = 0; trial < 200; trial++) {
      const a = Array.from({ length: 1 + randomInt(random, 12) }, () => "w" + randomInt(random, 6)).join(" ")
      const b = Array.from({ length: 1 + randomInt(random, 12) }, () => "w" + randomInt(random, 6)).join(" ")
      expect(rougeL(a, b).fmeasure).toBe(rougeL(b, a).fmeasure)
    }
  })

  it("keeps the float rounding of 2PR/(P+R) at the exact ratio 0.7, which 2·lcs/(m+n) would lose", () => {
    const outcomes = new Set<string>()
    for (let total = 20; total <= 100; total += 20) {
      const lcs = (7 * total) / 20
      for (let m = lcs; m <= total - lcs; m++) {
        const f = rougeLFromLcs(lcs, m, total - m).fmeasure
        expect(f).toBe(specFMeasure(lcs, m, total - m))
        outcomes.add(f > 0.7 ? "above" : f < 0.7 ? "below" : "exact")
      }
    }
    // The naive 2·lcs/(m+n) is exactly 0.7 for all of these; the official formula is not.
    expect(outcomes.has("above")).toBe(true)
    expect(outcomes.size).toBeGreaterThan(1)
  })

  it("scores 0 when either side has no tokens", () => {
    expect(rougeL("", "something")).toEqual({ precision: 0, recall: 0, fmeasure: 0 })
    expect(rougeL("...", "!!!").fmeasure).toBe(0)
  })
})

describe("rougeLMax", () => {
  it("takes the max over references, stemming when asked", () => {
    expect(rougeLMax("running dogs", ["cats", "run dog"], { stem: true })).toBe(1)
    expect(rougeLMax("running dogs", ["cats", "run dog"])).toBe(0)
  })

  it("rejects an empty reference list with a typed error naming the fix", () => {
    expect(() => rougeLMax("x", [])).toThrow(EmptyReferencesError)
    expect(() => rougeLMax("x", [])).toThrow(/at least one reference/)
  })
})
