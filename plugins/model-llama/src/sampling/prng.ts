/**
 * Per-request random streams. Each request owns a generator seeded from its
 * `seed`, so the same seed, prompt and params give the same sample no matter
 * which other requests share the batch.
 */

/** A uniform [0, 1) generator. */
export type Uniform = () => number

/**
 * xoshiro128** seeded through splitmix32: small, fast, statistically solid for
 * sampling, and fully determined by a 32-bit seed.
 */
export const seededUniform = (seed: number): Uniform => {
  let s = seed >>> 0
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix()
  let b = splitmix()
  let c = splitmix()
  let d = splitmix()
  return () => {
    const result = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)) >>> 0, 9) >>> 0
    const t = (b << 9) >>> 0
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    d = ((d << 11) | (d >>> 21)) >>> 0
    return result / 4294967296
  }
}
