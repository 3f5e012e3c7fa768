import { describe, expect, it } from "vitest"
import { pairedBootstrap, quantileSorted, seededRandom, type BootstrapOptions, type PairedScores } from "../src/index.ts"

const options: BootstrapOptions = { resamples: 1000, seed: 11, confidence: 0.95, resampleInstances: false, tieTolerance: 1e-9 }

/** Standard normal draws from a seeded uniform stream (Box–Muller). */
const normals = (seed: number) => {
  const random = seededRandom(seed)
  return () => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next())
}

const syntheticTasks = (count: number, instances: number, shift: (task: number) => number, seed: number): Array<PairedScores> => {
  const gaussian = normals(seed)
  return Array.from({ length: count }, (_, task) => {
    const baseline = Array.from({ length: instances }, () => 40 + 10 * gaussian())
    return { baseline, candidate: baseline.map((value) => value + shift(task)) }
  })
}

describe("quantileSorted", () => {
  it("interpolates linearly like numpy's default", () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12)
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBeCloseTo(2.5, 12)
    expect(quantileSorted([5], 0.975)).toBe(5)
    expect(quantileSorted([0, 10], 0.975)).toBeCloseTo(9.75, 12)
  })
})

describe("paired bootstrap on tables with known answers", () => {
  it("all tasks improved → 100% improved with a degenerate interval, for task and instance resampling", () => {
    const tasks = syntheticTasks(30, 8, (task) => 1 + task / 10, 1)
    for (const resampleInstances of [false, true]) {
      const result = pairedBootstrap(tasks, { ...options, resampleInstances })
      expect(result.shareImproved).toEqual({ estimate: 100, low: 100, high: 100 })
      expect(result.meanDelta.estimate).toBeCloseTo(1 + 29 / 20, 9)
      expect(result.meanDelta.low).toBeGreaterThan(1)
      expect(result.meanDelta.high).toBeLessThan(3.9)
    }
  })

  it("identical runs → 0% improved and a zero-width interval at 0", () => {
    const tasks = syntheticTasks(25, 10, () => 0, 2)
    for (const resampleInstances of [false, true]) {
      const result = pairedBootstrap(tasks, { ...options, resampleInstances })
      expect(result.shareImproved).toEqual({ estimate: 0, low: 0, high: 0 })
      expect(result.meanDelta).toEqual({ estimate: 0, low: 0, high: 0 })
    }
  })

  it("a known share of improved tasks is inside its interval, whose width matches the binomial standard error", () => {
    // 30 of 40 tasks improve by 2, 10 get worse by 2 → 75% improved, mean shift +1.
    const tasks = syntheticTasks(40, 5, (task) => (task < 30 ? 2 : -2), 3)
    const result = pairedBootstrap(tasks, { ...options, resamples: 4000 })
    expect(result.shareImproved.estimate).toBe(75)
    expect(result.meanDelta.estimate).toBeCloseTo(1, 9)
    expect(result.shareImproved.low).toBeLessThan(75)
    expect(result.shareImproved.high).toBeGreaterThan(75)
    // Binomial SE = sqrt(p(1-p)/n) = 6.85 points → 95% width ≈ 26.8; allow resampling noise and discreteness.
    const width = result.shareImproved.high - result.shareImproved.low
    expect(width).toBeGreaterThan(20)
    expect(width).toBeLessThan(33)
  })

  it("covers a known mean shift at about the nominal rate over many synthetic datasets", () => {
    // Each dataset: 40 tasks whose true per-task differences are 5 + N(0, 3²); the 95% interval
    // should contain the sample's population mean 5 in roughly 95% of datasets.
    const datasets = 200
    let covered = 0
    for (let dataset = 0; dataset < datasets; dataset++) {
      const gaussian = normals(1000 + dataset)
      const tasks = syntheticTasks(40, 1, () => 5 + 3 * gaussian(), 5000 + dataset)
      const result = pairedBootstrap(tasks, { ...options, resamples: 400, seed: dataset })
      if (result.meanDelta.low <= 5 && 5 <= result.meanDelta.high) covered++
    }
    expect(covered / datasets).toBeGreaterThan(0.88)
    expect(covered / datasets).toBeLessThan(0.99)
  })

  it("has an interval for the mean difference as wide as the normal approximation predicts", () => {
    const gaussian = normals(77)
    const deltas = Array.from({ length: 60 }, () => 2 + 4 * gaussian())
    const tasks = deltas.map((delta) => ({ baseline: [50], candidate: [50 + delta] }))
    const result = pairedBootstrap(tasks, { ...options, resamples: 4000 })
    const mean = deltas.reduce((sum, value) => sum + value, 0) / deltas.length
    const variance = deltas.reduce((sum, value) => sum + (value - mean) ** 2, 0) / deltas.length
    const expectedWidth = 2 * 1.96 * Math.sqrt(variance / deltas.length)
    const width = result.meanDelta.high - result.meanDelta.low
    expect(Math.abs(width / expectedWidth - 1)).toBeLessThan(0.1)
    expect(result.meanDelta.estimate).toBeCloseTo(mean, 9)
  })

  it("widens when instances are resampled too (instance noise is added)", () => {
    const gaussian = normals(9)
    const tasks = Array.from({ length: 30 }, () => {
      const baseline = Array.from({ length: 20 }, () => 50 + 20 * gaussian())
      return { baseline, candidate: baseline.map((value) => value + 1 + 20 * gaussian()) }
    })
    const tasksOnly = pairedBootstrap(tasks, options)
    const withInstances = pairedBootstrap(tasks, { ...options, resampleInstances: true })
    expect(withInstances.meanDelta.high - withInstances.meanDelta.low).toBeGreaterThan(
      tasksOnly.meanDelta.high - tasksOnly.meanDelta.low
    )
  })

  it("is reproducible from its seed", () => {
    const shifts = normals(4)
    const tasks = syntheticTasks(20, 4, () => shifts(), 4)
    expect(pairedBootstrap(tasks, options)).toEqual(pairedBootstrap(tasks, options))
    expect(pairedBootstrap(tasks, options)).not.toEqual(pairedBootstrap(tasks, { ...options, seed: 12 }))
  })
})

describe("seededRandom", () => {
  it("draws integers uniformly in range", () => {
    const random = seededRandom(3)
    const counts = new Array(10).fill(0)
    for (let draw = 0; draw < 100_000; draw++) counts[random.int(10)]++
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500)
  })
})
