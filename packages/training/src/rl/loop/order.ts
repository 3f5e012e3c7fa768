/**
 * Deterministic data order for RL trainers: which prompts a step samples and how
 * its rollouts split into minibatches — functions of (seed, step) only, so a
 * resumed run sees exactly the order of an uninterrupted one without storing it.
 *
 * @example
 * ```ts
 * import { minibatches, promptIndices } from "@refine-af/training"
 * promptIndices(3, 0, 2, 5) // two prompt indices of 0..2 for step 0
 * minibatches(8, 4, 2, 11, 0) // 2 epochs × 2 minibatches of 4 rollout indices
 * ```
 */

/** A seeded uniform generator (mulberry32) in [0, 1). */
export const seededUniform = (seed: number): (() => number) => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const mix = (...parts: ReadonlyArray<number>): number => parts.reduce((h, p) => Math.imul(h ^ (p >>> 0), 0x9e3779b1) ^ (h >>> 15), 0x2545f491) >>> 0

/** A seeded Fisher–Yates permutation of 0..n−1. */
export const permutation = (n: number, seed: number): Array<number> => {
  const next = seededUniform(seed)
  const out = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/**
 * The `batchSize` prompt indices of `step`: prompts are walked in a fresh seeded
 * shuffle per pass over the data (like a shuffled DataLoader that cycles).
 */
export const promptIndices = (promptCount: number, step: number, batchSize: number, seed: number): Array<number> => {
  const out: Array<number> = []
  for (let k = step * batchSize; k < (step + 1) * batchSize; k++) {
    const pass = Math.floor(k / promptCount)
    out.push(permutation(promptCount, mix(seed, pass, 0x51))[k % promptCount]!)
  }
  return out
}

/** For each of `epochs` passes, a seeded shuffle of 0..n−1 cut into minibatches of at most `size`. */
export const minibatches = (n: number, size: number, epochs: number, seed: number, step: number): Array<Array<number>> => {
  const out: Array<Array<number>> = []
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = permutation(n, mix(seed, step, epoch, 0xb7))
    for (let i = 0; i < n; i += size) out.push(order.slice(i, i + size))
  }
  return out
}

/**
 * Like {@link minibatches}, but rollouts of one group (`groups[i]`: rollout i's
 * prompt) stay together: each epoch shuffles the groups, lists each group's
 * rollouts in order, and cuts that list into minibatches of at most `size`
 * (a group is split only where a minibatch ends). A model that runs each
 * distinct prompt of a batch once (`llama/hf`'s shared prompts) then runs a
 * group's prompt once per update instead of once per rollout.
 */
export const groupedMinibatches = (groups: ReadonlyArray<number>, size: number, epochs: number, seed: number, step: number): Array<Array<number>> => {
  const members = new Map<number, Array<number>>()
  groups.forEach((group, i) => {
    const list = members.get(group)
    if (list) list.push(i)
    else members.set(group, [i])
  })
  const distinct = [...members.keys()]
  const out: Array<Array<number>> = []
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = permutation(distinct.length, mix(seed, step, epoch, 0xc3)).flatMap((g) => members.get(distinct[g]!)!)
    for (let i = 0; i < order.length; i += size) out.push(order.slice(i, i + size))
  }
  return out
}
