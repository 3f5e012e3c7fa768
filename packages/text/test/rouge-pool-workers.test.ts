import { afterAll, describe, expect, it } from "vitest"
import { RougePool } from "../src/index.ts"
import { makeInstructionTexts } from "./support/instruction-texts.ts"

describe("RougePool worker mode", { timeout: 60_000 }, () => {
  const seeds = makeInstructionTexts(300, { seed: 21, lexiconSize: 200, minWords: 4, maxWords: 40 })
  const batches = [0, 1, 2, 3].map((k) =>
    makeInstructionTexts(120, { seed: 30 + k, lexiconSize: 200, minWords: 4, maxWords: 40, nearDuplicateRate: 0.5 })
  )
  // Batches also repeat earlier batches' texts, so in-batch and cross-batch duplicates both occur.
  batches[2] = [...batches[2]!.slice(0, 60), ...batches[1]!.slice(0, 60)]
  batches[3] = [...batches[3]!.slice(0, 100), ...batches[3]!.slice(0, 20)]

  const workerPool = new RougePool({ workers: 2 })
  afterAll(() => workerPool.close())

  it.each([
    { threshold: 0.7, topK: 10, meanSimilarity: true },
    { threshold: 0.7, topK: 10 },
    { threshold: 0.7, decisionOnly: true }
  ])("filterBatchAsync on 2 workers decides exactly like filterBatch on one thread (%o)", async (options) => {
    const single = new RougePool()
    const parallel = new RougePool({ workers: 2 })
    try {
      for (const seed of seeds) {
        single.add(seed)
        parallel.add(seed)
      }
      for (const batch of batches) {
        const expected = single.filterBatch(batch, options)
        const actual = await parallel.filterBatchAsync(batch, options)
        const strip = (decisions: typeof expected) =>
          decisions.map(({ meanSimilarity: _mean, ...decision }) => decision)
        expect(strip(actual)).toEqual(strip(expected))
        actual.forEach((decision, k) => {
          if (options.meanSimilarity === true) expect(decision.meanSimilarity).toBeCloseTo(expected[k]!.meanSimilarity!, 12)
        })
        expect(actual.some((decision) => !decision.accepted)).toBe(true)
      }
      expect(parallel.size).toBe(single.size)
    } finally {
      await parallel.close()
    }
  })

  it("queryAsync equals query, and the pool stays usable on the calling thread", async () => {
    for (const seed of seeds.slice(0, 100)) workerPool.add(seed)
    for (const text of batches[0]!.slice(0, 30)) {
      expect(await workerPool.queryAsync(text, { threshold: 0.7, topK: 5 })).toEqual(workerPool.query(text, { threshold: 0.7, topK: 5 }))
    }
  })
})
