/**
 * Seeds: every stage gets its own seed derived from the recipe seed and the
 * stage name, and deterministic components derive per-record randomness from
 * the stage seed and the record index, so a resumed run repeats exactly.
 */
import { sha256 } from "./hash.ts"

/** A 32-bit unsigned seed derived from a base seed and a label. */
export const seedFor = (seed: number, label: string | number): number =>
  Number.parseInt(sha256(`${seed}\0${label}`).slice(0, 8), 16)

/** Seed of a stage: derived from the recipe seed and the stage name. */
export const stageSeed = (recipeSeed: number, stageName: string): number => seedFor(recipeSeed, `stage:${stageName}`)

/**
 * A small, fast deterministic PRNG (mulberry32) returning floats in [0, 1).
 *
 * @example
 * ```ts
 * const random = seededRandom(seedFor(42, 7))
 * const pick = Math.floor(random() * 10)
 * ```
 */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
