/**
 * Generalised advantage estimation (Schulman et al. 2016) per sequence, and
 * batch whitening of advantages — the semantics of TRL's classic PPO trainer
 * (`compute_advantages`, `masked_whiten`).
 *
 * Per response token t of one sequence with rewards r and values V:
 * δ_t = r_t + γ·V_{t+1} − V_t (V after the last token is 0),
 * A_t = δ_t + γλ·A_{t+1}, returns_t = A_t + V_t.
 *
 * @example
 * ```ts
 * import { gae, whiten } from "@refine-af/training"
 * const { advantages, returns } = gae([[0, 0, 1]], [[0.1, 0.2, 0.3]], { gamma: 1, lambda: 0.95 })
 * const normalised = whiten(advantages)
 * ```
 */
import { flatMean, flatVariance, type Ragged } from "./stats.ts"

/** Discount γ and GAE λ. */
export interface GaeParams {
  readonly gamma: number
  readonly lambda: number
}

/** Advantages and value targets, shaped like the rewards. */
export interface GaeResult {
  readonly advantages: Array<Array<number>>
  readonly returns: Array<Array<number>>
}

/** GAE over each sequence's response tokens; `values[i]` must be as long as `rewards[i]`. */
export const gae = (rewards: Ragged, values: Ragged, { gamma, lambda }: GaeParams): GaeResult => {
  const advantages: Array<Array<number>> = []
  const returns: Array<Array<number>> = []
  rewards.forEach((r, i) => {
    const v = values[i]
    if (v === undefined || v.length !== r.length) throw new RangeError(`gae: sequence ${i} has ${r.length} rewards but ${v?.length ?? 0} values`)
    const a = new Array<number>(r.length)
    let next = 0
    for (let t = r.length - 1; t >= 0; t--) {
      const nextValue = t + 1 < r.length ? v[t + 1]! : 0
      const delta = r[t]! + gamma * nextValue - v[t]!
      next = delta + gamma * lambda * next
      a[t] = next
    }
    advantages.push(a)
    returns.push(a.map((x, t) => x + v[t]!))
  })
  return { advantages, returns }
}

/**
 * (x − mean) / sqrt(var + 1e-8) over every entry of the batch, with the unbiased
 * variance (TRL's `masked_whiten`). With `shiftMean: false` the mean is added back
 * (TRL whitens rewards that way).
 */
export const whiten = (xs: Ragged, shiftMean = true): Array<Array<number>> => {
  const m = flatMean(xs)
  const scale = 1 / Math.sqrt(flatVariance(xs, true) + 1e-8)
  return xs.map((row) => row.map((v) => (v - m) * scale + (shiftMean ? 0 : m)))
}
