import { describe, expect, it } from "vitest"
import { lcsLengthBitParallel } from "../src/lcs/bit-parallel-lcs.ts"
import { lcsLengthDP } from "../src/index.ts"
import { randomIds, randomInt, seededRandom } from "./support/seeded-random.ts"

/** Independent oracle: the longest subsequence of `left` (by exhaustive enumeration) that is also a subsequence of `right`. */
const bruteForceLcs = (left: ArrayLike<number>, right: ArrayLike<number>): number => {
  const isSubsequence = (candidate: Array<number>): boolean => {
    let position = 0
    for (let k = 0; k < right.length && position < candidate.length; k++) if (right[k] === candidate[position]) position++
    return position === candidate.length
  }
  let best = 0
  for (let subset = 0; subset < 1 << left.length; subset++) {
    const candidate: Array<number> = []
    for (let bit = 0; bit < left.length; bit++) if (subset & (1 << bit)) candidate.push(left[bit]!)
    if (candidate.length > best && isSubsequence(candidate)) best = candidate.length
  }
  return best
}

describe("lcsLengthDP", () => {
  it("matches an exhaustive subsequence search on small random arrays", () => {
    const random = seededRandom(11)
    for (let trial = 0; trial < 400; trial++) {
      const left = randomIds(random, randomInt(random, 9), 1 + randomInt(random, 4))
      const right = randomIds(random, randomInt(random, 9), 1 + randomInt(random, 4))
      expect(lcsLengthDP(left, right)).toBe(bruteForceLcs(left, right))
    }
  })

  it("handles empty and identical inputs", () => {
    expect(lcsLengthDP([], ["a"])).toBe(0)
    expect(lcsLengthDP(["a", "b"], [])).toBe(0)
    expect(lcsLengthDP(["a", "b", "a"], ["a", "b", "a"])).toBe(3)
  })
})

describe("bit-parallel LCS", () => {
  const lengths = [0, 1, 5, 31, 32, 33, 63, 64, 65, 100, 150]

  it("equals the DP LCS on thousands of random pairs, including > 32 and > 64 tokens", () => {
    const random = seededRandom(7)
    let checked = 0
    for (const leftLength of lengths) {
      for (let trial = 0; trial < 300; trial++) {
        const rightLength = trial % 3 === 0 ? lengths[randomInt(random, lengths.length)]! : randomInt(random, 160)
        // Small alphabets give long LCS chains and long carry runs; large ones give sparse matches.
        const alphabet = [2, 3, 8, 40, 1000][trial % 5]!
        const left = randomIds(random, leftLength, alphabet)
        const right = randomIds(random, rightLength, alphabet)
        expect(lcsLengthBitParallel(left, right)).toBe(lcsLengthDP(left, right))
        checked++
      }
    }
    expect(checked).toBeGreaterThan(3000)
  })

  it("propagates carries across word boundaries (all-equal symbols)", () => {
    for (const length of [31, 32, 33, 64, 65, 97]) {
      const ones = new Uint32Array(length).fill(4)
      expect(lcsLengthBitParallel(ones, ones)).toBe(length)
      expect(lcsLengthBitParallel(ones, ones.subarray(0, 20))).toBe(Math.min(length, 20))
    }
  })
})
