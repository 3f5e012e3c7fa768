/**
 * Deterministic batch order with length bucketing: each epoch shuffles the
 * training set (seeded by the stage seed and the epoch), cuts it into
 * windows of 8 batches, sorts each window by length (little padding per
 * batch) and shuffles the batches. Any step's batch can be recomputed, so a
 * resumed run needs no data cursor.
 *
 * @example
 * ```ts
 * import { batchPlan } from "@refine-af/trainer-sft"
 * const plan = batchPlan([5, 9, 3, 7], 2, 1, 42) // [[i, j], [k, l]] record indices per step
 * ```
 */
const rng = (seed: number) => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296
  }
}

const shuffle = <T>(items: Array<T>, next: () => number): Array<T> => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

/** Record indices of every step's batch over `epochs`, from the sequences' lengths. */
export const batchPlan = (lengths: ReadonlyArray<number>, batchSize: number, epochs: number, seed: number): Array<Array<number>> => {
  const plan: Array<Array<number>> = []
  for (let epoch = 0; epoch < epochs; epoch++) {
    const next = rng(seed * 1000003 + epoch)
    const order = shuffle(lengths.map((_, i) => i), next)
    const batches: Array<Array<number>> = []
    const window = batchSize * 8
    for (let w = 0; w < order.length; w += window) {
      const sorted = order.slice(w, w + window).sort((a, b) => lengths[a]! - lengths[b]! || a - b)
      for (let b = 0; b < sorted.length; b += batchSize) batches.push(sorted.slice(b, b + batchSize))
    }
    plan.push(...shuffle(batches, next))
  }
  return plan
}

/** Splits indices 0..n-1 into train and held-out eval sets (seeded, eval = the first ⌈fraction·n⌉ of a shuffle). */
export const holdOut = (n: number, fraction: number, seed: number): { train: Array<number>; evaluation: Array<number> } => {
  const order = shuffle(Array.from({ length: n }, (_, i) => i), rng(seed ^ 0x5eed))
  const k = fraction > 0 ? Math.min(n - 1, Math.ceil(fraction * n)) : 0
  return { evaluation: order.slice(0, k).sort((a, b) => a - b), train: order.slice(k).sort((a, b) => a - b) }
}
