import { describe, expect, it } from "vitest"
import { InvalidPoolOptionError, RougePool, rougeLFromLcs } from "../src/index.ts"

/** A text of n tokens that shares exactly its first `shared` tokens, in order, with `base`. */
const variant = (base: ReadonlyArray<string>, shared: number, n: number, tag: string): string =>
  [...base.slice(0, shared), ...Array.from({ length: n - shared }, (_, k) => `${tag}x${k}`)].join(" ")

describe("RougePool at the 0.7 threshold edge", () => {
  // Pairs whose F is mathematically exactly 0.7: lcs = 0.35·(m + n).
  const cases = [20, 40, 60].flatMap((total) => {
    const lcs = (7 * total) / 20
    return Array.from({ length: total - 2 * lcs + 1 }, (_, k) => ({ lcs, m: lcs + k, n: total - lcs - k }))
  })

  it("accepts and rejects exactly as the official float formula does", () => {
    let rejected = 0
    for (const { lcs, m, n } of cases) {
      const base = Array.from({ length: n }, (_, k) => `p${k}`)
      const pool = new RougePool()
      pool.add(base.join(" "))
      pool.add("unrelated words only")
      const candidate = variant(base, lcs, m, "c")
      const expected = rougeLFromLcs(lcs, m, n).fmeasure
      // Query first: filterBatch adds an accepted candidate to the pool.
      expect(pool.query(candidate, { threshold: 0.7, decisionOnly: true }).exceeds).toBe(expected > 0.7)
      const [decision] = pool.filterBatch([candidate], { threshold: 0.7, topK: 2 })
      expect(decision!.maxScore).toBe(expected)
      expect(decision!.accepted).toBe(!(expected > 0.7))
      if (!decision!.accepted) rejected++
    }
    // Both outcomes occur although every pair is "exactly 0.7" on paper.
    expect(rejected).toBeGreaterThan(0)
    expect(rejected).toBeLessThan(cases.length)
  })

  it("compares later candidates of a batch with earlier accepted ones", () => {
    const pool = new RougePool()
    pool.add("translate the sentence into french")
    const decisions = pool.filterBatch(
      ["summarize the article in two sentences", "summarize the article in three sentences", "write a haiku"],
      { threshold: 0.7, topK: 1 }
    )
    expect(decisions.map((decision) => decision.accepted)).toEqual([true, false, true])
    expect(decisions[1]!.top[0]!.index).toBe(decisions[0]!.index)
    expect(pool.size).toBe(3)
  })

  it("stems when built with stem: true", () => {
    const stemmed = new RougePool({ stem: true })
    const plain = new RougePool()
    for (const pool of [stemmed, plain]) pool.add("running dogs jumped")
    expect(stemmed.query("run dog jump", { threshold: 0.7 }).maxScore).toBe(1)
    expect(plain.query("run dog jump", { threshold: 0.7 }).maxScore).toBe(0)
  })

  it("returns 0 scores and zero-score fill for texts without tokens", () => {
    const pool = new RougePool()
    pool.add("alpha beta")
    pool.add("gamma")
    expect(pool.query("!!!", { threshold: 0.7, topK: 3 })).toEqual({
      maxScore: 0,
      exceeds: false,
      top: [{ index: 0, text: "alpha beta", score: 0 }, { index: 1, text: "gamma", score: 0 }]
    })
  })

  it.each([
    [{ threshold: 1.5 }, "threshold"],
    [{ threshold: Number.NaN }, "threshold"],
    [{ threshold: 0.7, topK: -1 }, "topK"],
    [{ threshold: 0.7, topK: 2.5 }, "topK"],
    [{ threshold: 0.7, topK: 3, decisionOnly: true }, "decisionOnly"]
  ])("rejects bad options %o with a typed error", (options, option) => {
    const pool = new RougePool()
    expect(() => pool.query("x", options)).toThrow(InvalidPoolOptionError)
    try {
      pool.query("x", options)
    } catch (error) {
      expect((error as InvalidPoolOptionError).option).toBe(option)
    }
  })

  it("rejects a bad worker count", () => {
    expect(() => new RougePool({ workers: -1 })).toThrow(InvalidPoolOptionError)
  })
})
