/**
 * A seeded random source for the corpus and the trainer: mulberry32 behind a
 * few helpers, so the same seed always writes the same corpus.
 *
 * @example
 * ```ts
 * import { makeRng } from "./rng.ts"
 * const rng = makeRng(7)
 * rng.int(1, 6) // same value for seed 7, every run
 * ```
 */

/** A reproducible random source. */
export interface Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Integer in [lo, hi] (inclusive). */
  readonly int: (lo: number, hi: number) => number
  /** One element of a non-empty list. */
  readonly pick: <A>(items: ReadonlyArray<A>) => A
  /** `count` distinct elements (or all, if fewer), in random order. */
  readonly sample: <A>(items: ReadonlyArray<A>, count: number) => Array<A>
  /** True with probability p. */
  readonly chance: (p: number) => boolean
}

/** mulberry32 seeded with `seed`. */
export const makeRng = (seed: number): Rng => {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1))
  const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(next() * items.length)]!
  const sample = <A>(items: ReadonlyArray<A>, count: number): Array<A> => {
    const copy = [...items]
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1))
      ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
    }
    return copy.slice(0, Math.min(count, copy.length))
  }
  return { next, int, pick, sample, chance: (p) => next() < p }
}
