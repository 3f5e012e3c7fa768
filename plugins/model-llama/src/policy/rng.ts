/**
 * A session's random stream: splitmix32, whole state one uint32, so
 * checkpoints store it and a resumed session draws the same numbers.
 * It seeds sampling requests without their own seed and LoRA dropout masks.
 */
export interface SessionRng {
  /** Uniform [0, 1). */
  readonly next: () => number
  /** A uint32 (a seed for a derived stream). */
  readonly nextSeed: () => number
  readonly state: () => number
  readonly restore: (state: number) => void
}

export const sessionRng = (seed: number): SessionRng => {
  let s = seed >>> 0
  const nextSeed = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  return { nextSeed, next: () => nextSeed() / 4294967296, state: () => s, restore: (state) => void (s = state >>> 0) }
}
