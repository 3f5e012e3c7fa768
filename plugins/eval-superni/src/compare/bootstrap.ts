/**
 * Paired bootstrap over tasks for "is run B better than run A?": resample
 * tasks with replacement (and, optionally, the instances inside each drawn
 * task, with the same indices for both runs so the pairing is kept), and
 * record the mean per-task difference and the share of tasks improved. The
 * confidence intervals are percentile intervals of those resampled statistics.
 *
 * @example
 * ```ts
 * import { pairedBootstrap } from "@refine-af/eval-superni"
 * const result = pairedBootstrap(
 *   [{ baseline: [10, 20], candidate: [30, 40] }, { baseline: [0], candidate: [5] }],
 *   { resamples: 1000, seed: 7, confidence: 0.95, resampleInstances: false, tieTolerance: 1e-9 }
 * )
 * result.shareImproved // { estimate: 100, low: 100, high: 100 }
 * ```
 */
import { seededRandom } from "./random.ts"

/** One task's paired per-instance scores (same instances, same order). */
export interface PairedScores {
  readonly baseline: ReadonlyArray<number>
  readonly candidate: ReadonlyArray<number>
}

/** How to resample and how wide the intervals are. */
export interface BootstrapOptions {
  readonly resamples: number
  readonly seed: number
  /** Two-sided coverage of the intervals, e.g. 0.95. */
  readonly confidence: number
  /** Also resample instances within each drawn task (captures instance noise, not only task sampling). */
  readonly resampleInstances: boolean
  /** A per-task difference within ±tolerance counts as tied. */
  readonly tieTolerance: number
}

/** A point estimate on the observed data with its percentile interval. */
export interface Interval {
  readonly estimate: number
  readonly low: number
  readonly high: number
}

/** The two bootstrapped statistics. */
export interface BootstrapResult {
  /** Mean over tasks of (candidate task mean − baseline task mean). */
  readonly meanDelta: Interval
  /** Percentage of tasks with a difference above the tie tolerance. */
  readonly shareImproved: Interval
}

const mean = (values: ReadonlyArray<number>): number => {
  let sum = 0
  for (const value of values) sum += value
  return values.length === 0 ? 0 : sum / values.length
}

/** Linear-interpolation quantile of sorted values (R's type 7, numpy's default). */
export const quantileSorted = (sorted: ReadonlyArray<number>, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const position = (sorted.length - 1) * q
  const below = Math.floor(position)
  const above = Math.min(below + 1, sorted.length - 1)
  const lower = sorted[below]!
  return lower + (sorted[above]! - lower) * (position - below)
}

/** Runs the bootstrap; `tasks` must be non-empty and each task non-empty. */
export const pairedBootstrap = (tasks: ReadonlyArray<PairedScores>, options: BootstrapOptions): BootstrapResult => {
  const taskDeltas = tasks.map((task) => mean(task.candidate) - mean(task.baseline))
  const improved = (delta: number) => (delta > options.tieTolerance ? 1 : 0)
  const random = seededRandom(options.seed)
  const meanDeltas = new Float64Array(options.resamples)
  const shares = new Float64Array(options.resamples)
  for (let resample = 0; resample < options.resamples; resample++) {
    let deltaSum = 0
    let improvedCount = 0
    for (let draw = 0; draw < tasks.length; draw++) {
      const taskIndex = random.int(tasks.length)
      let delta = taskDeltas[taskIndex]!
      if (options.resampleInstances) {
        const task = tasks[taskIndex]!
        const size = task.baseline.length
        let difference = 0
        for (let pick = 0; pick < size; pick++) {
          const instance = random.int(size)
          difference += task.candidate[instance]! - task.baseline[instance]!
        }
        delta = difference / size
      }
      deltaSum += delta
      improvedCount += improved(delta)
    }
    meanDeltas[resample] = deltaSum / tasks.length
    shares[resample] = (100 * improvedCount) / tasks.length
  }
  const alpha = (1 - options.confidence) / 2
  const interval = (estimate: number, samples: Float64Array): Interval => {
    const sorted = Array.from(samples).sort((a, b) => a - b)
    return { estimate, low: quantileSorted(sorted, alpha), high: quantileSorted(sorted, 1 - alpha) }
  }
  return {
    meanDelta: interval(mean(taskDeltas), meanDeltas),
    shareImproved: interval((100 * taskDeltas.reduce((count, delta) => count + improved(delta), 0)) / tasks.length, shares)
  }
}
