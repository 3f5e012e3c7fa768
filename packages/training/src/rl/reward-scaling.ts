/**
 * Scalar-score preprocessing of TRL's classic PPO: running moments of the scores
 * (Chan et al.'s parallel update), then optional scaling by the running std,
 * optional centring by the running mean, optional clipping.
 * The running state is plain data so checkpoints carry it.
 *
 * @example
 * ```ts
 * import { initialMoments, scaleScores } from "@refine-af/training"
 * const { scores, moments } = scaleScores([1, 2, 3], initialMoments, { scale: true, normalize: false, clip: 5 })
 * ```
 */
import { mean } from "./stats.ts"

/** Running mean / variance / count of every score seen. */
export interface RunningMoments {
  readonly mean: number
  /** Population variance. */
  readonly variance: number
  readonly count: number
}

/** TRL's starting point: mean 0, variance 1, a vanishing count. */
export const initialMoments: RunningMoments = { mean: 0, variance: 1, count: 1e-24 }

/** Merges a batch into the running moments. */
export const updateMoments = (m: RunningMoments, xs: ReadonlyArray<number>): RunningMoments => {
  if (xs.length === 0) return m
  const batchMean = mean(xs)
  const batchVar = xs.reduce((a, x) => a + (x - batchMean) ** 2, 0) / xs.length
  const total = m.count + xs.length
  const delta = batchMean - m.mean
  const m2 = m.variance * m.count + batchVar * xs.length + (delta * delta * m.count * xs.length) / total
  return { mean: m.mean + (delta * xs.length) / total, variance: m2 / total, count: total }
}

/** Unbiased running standard deviation (TRL's `RunningMoments.std`). */
export const runningStd = (m: RunningMoments): number => Math.sqrt(m.count > 1 ? (m.variance * m.count) / (m.count - 1) : m.variance)

/** Which preprocessing to apply. `normalize` needs `scale`; `clip` bounds |score|. */
export interface ScoreScaling {
  readonly scale: boolean
  readonly normalize: boolean
  readonly clip?: number | undefined
}

/** Scaled scores and the updated running moments (unchanged when `scale` is off). */
export const scaleScores = (
  scores: ReadonlyArray<number>,
  moments: RunningMoments,
  options: ScoreScaling
): { readonly scores: Array<number>; readonly moments: RunningMoments } => {
  let out = [...scores]
  let next = moments
  if (options.scale) {
    next = updateMoments(moments, scores)
    const factor = runningStd(next) + Number.EPSILON
    out = out.map((s) => (options.normalize ? (s - next.mean) / factor : s / factor))
  }
  if (options.clip !== undefined) {
    const c = options.clip
    out = out.map((s) => Math.min(c, Math.max(-c, s)))
  }
  return { scores: out, moments: next }
}
