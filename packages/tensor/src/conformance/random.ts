/**
 * Deterministic random numbers and shapes for conformance cases (a seeded
 * generator, so every backend sees identical cases).
 */
import type { Shape } from "../ir.ts"
import { sizeOf } from "../ir.ts"

/** A small seeded PRNG (mulberry32) with helpers. */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next()
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }
  /** One of the items. */
  pick<T>(items: ReadonlyArray<T>): T {
    return items[this.int(0, items.length - 1)]!
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next())
  }
  /** `n` values from `f`. */
  fill(n: number, f: () => number): Float64Array {
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++) out[i] = f()
    return out
  }
  /** A random shape of rank in [minRank, maxRank], dims in [1, maxDim], at most `maxSize` elements. */
  shape(minRank: number, maxRank: number, maxDim = 4, maxSize = 24): Array<number> {
    for (;;) {
      const rank = this.int(minRank, maxRank)
      const s = Array.from({ length: rank }, () => this.int(1, maxDim))
      if (sizeOf(s) <= maxSize) return s
    }
  }
  /** A shape that broadcasts to `target`: some leading dims dropped, some dims set to 1. */
  broadcastable(target: Shape): Array<number> {
    const drop = this.int(0, target.length)
    return target.slice(drop).map((d) => (this.next() < 0.35 ? 1 : d))
  }
  /** Values of magnitude in [lo, hi] with random sign (keeps away from 0). */
  awayFromZero(n: number, lo = 0.5, hi = 2): Float64Array {
    return this.fill(n, () => (this.next() < 0.5 ? -1 : 1) * this.uniform(lo, hi))
  }
  /** `n` distinct values spaced ≥ `gap` apart, shuffled (no ties for max/min/sort). */
  distinct(n: number, gap = 0.1): Float64Array {
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++) out[i] = (i - n / 2) * gap + this.uniform(-gap / 10, gap / 10)
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i)
      const t = out[i]!
      out[i] = out[j]!
      out[j] = t
    }
    return out
  }
}
