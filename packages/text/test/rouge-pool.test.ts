import { afterAll, describe, expect, it } from "vitest"
import { lcsLengthDP, RougePool, rougeLFMeasure, rougeTokenize } from "../src/index.ts"
import { makeInstructionTexts } from "./support/instruction-texts.ts"

interface NaiveDecision {
  readonly accepted: boolean
  readonly maxScore: number
  readonly top: ReadonlyArray<{ index: number; score: number }>
  readonly meanSimilarity: number
}

/** The plain loop the pool must reproduce: DP ROUGE-L against every pool text, in order. */
const naiveFilter = (
  initialPool: ReadonlyArray<string>,
  candidates: ReadonlyArray<string>,
  threshold: number,
  topK: number
): Array<NaiveDecision> => {
  // Token strings → ints only to make the O(m·n) reference loop affordable; the scores are still plain DP.
  const ids = new Map<string, number>()
  const toIds = (text: string) => Int32Array.from(rougeTokenize(text), (token) => ids.get(token) ?? ids.set(token, ids.size).size - 1)
  const pool = initialPool.map(toIds)
  return candidates.map((candidate) => {
    const tokens = toIds(candidate)
    const scores = pool.map((text) => rougeLFMeasure(lcsLengthDP(tokens, text), tokens.length, text.length))
    const maxScore = scores.reduce((best, score) => Math.max(best, score), 0)
    const top = scores.map((score, index) => ({ index, score }))
      .sort((a, b) => b.score - a.score || a.index - b.index).slice(0, topK)
    const meanSimilarity = scores.length === 0 ? 0 : scores.reduce((sum, score) => sum + score, 0) / scores.length
    const accepted = !(maxScore > threshold)
    if (accepted) pool.push(tokens)
    return { accepted, maxScore, top, meanSimilarity }
  })
}

const strip = (decisions: ReadonlyArray<{ accepted: boolean; maxScore: number; top: ReadonlyArray<{ index: number; score: number }> }>) =>
  decisions.map(({ accepted, maxScore, top }) => ({ accepted, maxScore, top: top.map(({ index, score }) => ({ index, score })) }))

describe("RougePool.filterBatch", { timeout: 60_000 }, () => {
  const seeds = makeInstructionTexts(60, { seed: 3, lexiconSize: 150, minWords: 4, maxWords: 45 })
  const candidates = makeInstructionTexts(400, { seed: 4, lexiconSize: 150, minWords: 4, maxWords: 45, nearDuplicateRate: 0.5 })

  it.each([
    { threshold: 0.7, topK: 10 },
    { threshold: 0.7, topK: 0 },
    { threshold: 0.5, topK: 3 },
    { threshold: 0.3, topK: 1 }
  ])("decides exactly like the naive DP loop (threshold $threshold, topK $topK)", ({ threshold, topK }) => {
    const pool = new RougePool()
    for (const seed of seeds) pool.add(seed)
    const decisions = pool.filterBatch(candidates, { threshold, topK })
    const expected = naiveFilter(seeds, candidates, threshold, topK)
    expect(strip(decisions)).toEqual(strip(expected))
    // The random pool must actually exercise both outcomes.
    expect(decisions.some((decision) => decision.accepted)).toBe(true)
    expect(decisions.some((decision) => !decision.accepted)).toBe(true)
  })

  it.each([0.7, 0.5, 0.3])("decisionOnly gives the same decisions, and the exact max when it exceeds (threshold %s)", (threshold) => {
    const pool = new RougePool()
    for (const seed of seeds) pool.add(seed)
    const decisions = pool.filterBatch(candidates, { threshold, decisionOnly: true })
    const expected = naiveFilter(seeds, candidates, threshold, 0)
    expect(decisions.map((decision) => decision.accepted)).toEqual(expected.map((decision) => decision.accepted))
    expect(decisions.map((decision) => decision.maxScore)).toEqual(
      expected.map((decision) => (decision.accepted ? Number.NaN : decision.maxScore))
    )
  })

  it("handles long texts (multi-word bit vectors) exactly", () => {
    const longSeeds = makeInstructionTexts(30, { seed: 8, lexiconSize: 60, minWords: 60, maxWords: 200 })
    const longCandidates = makeInstructionTexts(60, { seed: 9, lexiconSize: 60, minWords: 5, maxWords: 200, nearDuplicateRate: 0.5 })
    const pool = new RougePool()
    for (const seed of longSeeds) pool.add(seed)
    const decisions = pool.filterBatch(longCandidates, { threshold: 0.5, topK: 4 })
    expect(strip(decisions)).toEqual(strip(naiveFilter(longSeeds, longCandidates, 0.5, 4)))
  })

  it("reports mean similarity like the naive loop", () => {
    const pool = new RougePool()
    for (const seed of seeds) pool.add(seed)
    const decisions = pool.filterBatch(candidates.slice(0, 100), { threshold: 0.7, topK: 10, meanSimilarity: true })
    const expected = naiveFilter(seeds, candidates.slice(0, 100), 0.7, 10)
    expect(strip(decisions)).toEqual(strip(expected))
    decisions.forEach((decision, k) => expect(decision.meanSimilarity).toBeCloseTo(expected[k]!.meanSimilarity, 12))
  })
})
