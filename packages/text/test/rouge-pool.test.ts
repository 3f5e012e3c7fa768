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
  const pool = initialPool.map((text) => rougeTokenize(text))
  return candidates.map((candidate) => {
    const tokens = rougeTokenize(candidate)
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

describe("RougePool.filterBatch", () => {
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

  it("reports mean similarity like the naive loop", () => {
    const pool = new RougePool()
    for (const seed of seeds) pool.add(seed)
    const decisions = pool.filterBatch(candidates.slice(0, 100), { threshold: 0.7, topK: 10, meanSimilarity: true })
    const expected = naiveFilter(seeds, candidates.slice(0, 100), 0.7, 10)
    expect(strip(decisions)).toEqual(strip(expected))
    decisions.forEach((decision, k) => expect(decision.meanSimilarity).toBeCloseTo(expected[k]!.meanSimilarity, 12))
  })
})
