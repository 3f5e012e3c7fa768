/**
 * A splitmix32 random stream whose whole state is one uint32, so a checkpoint
 * can store it and a resumed session continues the same sequence.
 */
export interface Rng {
  /** Uniform [0, 1). */
  readonly next: () => number
  /** Standard normal (Box–Muller, two uniforms per draw). */
  readonly normal: () => number
  readonly state: () => number
  readonly restore: (state: number) => void
}

export const makeRng = (seed: number): Rng => {
  let s = seed >>> 0
  const next = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296
  }
  const normal = () => {
    const u = 1 - next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next())
  }
  return { next, normal, state: () => s, restore: (state) => void (s = state >>> 0) }
}
