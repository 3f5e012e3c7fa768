/**
 * A small seeded pseudo-random generator (32-bit state, splitmix-style
 * mixing) for the bootstrap: the same seed gives the same resamples on every
 * platform, which `Math.random` cannot promise.
 *
 * @example
 * ```ts
 * import { seededRandom } from "@refine-af/eval-superni"
 * const random = seededRandom(42)
 * random.int(10) // an integer in [0, 10)
 * ```
 */

/** A deterministic stream of uniform numbers. */
export interface SeededRandom {
  /** Uniform float in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [0, n). */
  readonly int: (n: number) => number
}

/** Creates a generator from any integer seed. */
export const seededRandom = (seed: number): SeededRandom => {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x9e3779b9) >>> 0
    let mixed = state
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b)
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35)
    mixed ^= mixed >>> 16
    return (mixed >>> 0) / 4294967296
  }
  return { next, int: (n) => Math.floor(next() * n) }
}
