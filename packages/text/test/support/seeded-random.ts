/** Deterministic PRNG (mulberry32) so random tests reproduce from their seed. */
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

/** Random integer in [0, bound). */
export const randomInt = (random: () => number, bound: number): number => Math.floor(random() * bound)

/** Random id sequence of `length` symbols drawn from an alphabet of `alphabet` ids. */
export const randomIds = (random: () => number, length: number, alphabet: number): Uint32Array =>
  Uint32Array.from({ length }, () => randomInt(random, alphabet))
