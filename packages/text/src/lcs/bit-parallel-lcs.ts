/**
 * Bit-parallel LCS length (Allison & Dix 1986, Crochemore et al. 2001, Hyyrö 2004): the pattern
 * is a bit vector of 32-bit words; each symbol of the other sequence updates all positions at
 * once with V' = (V + (V & M)) | (V & ~M), where M marks the pattern positions holding that
 * symbol. The LCS length is the number of zero bits of V after the last symbol. Cost:
 * O(⌈m/32⌉ · n) word operations instead of O(m · n) table cells, and symbols absent from the
 * pattern (M = 0) leave V unchanged, so they are skipped outright.
 */

const popcount32 = (value: number): number => {
  let v = value - ((value >>> 1) & 0x55555555)
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333)
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24)
}

/**
 * A sequence prepared as the LCS pattern: per distinct symbol, its position bitmask. Symbols are
 * non-negative integer ids; `slotOf[id]` (−1 when absent) maps an id to its mask row, so the
 * lookup per symbol of the other sequence is one typed-array read. The pattern owns no slot
 * table: the caller lends one (sized above every id it will see) and `release()` clears it.
 */
export class LcsPattern {
  /** Number of 32-bit words per mask, ⌈length / 32⌉. */
  readonly words: number
  private readonly masks: Uint32Array
  private readonly distinctIds: Array<number> = []
  private readonly state: Uint32Array

  constructor(readonly ids: Uint32Array, private readonly slotOf: Int32Array) {
    this.words = Math.max(1, Math.ceil(ids.length / 32))
    let distinct = 0
    for (const id of ids) {
      if (slotOf[id] === -1) {
        slotOf[id] = distinct++
        this.distinctIds.push(id)
      }
    }
    this.masks = new Uint32Array(distinct * this.words)
    for (let position = 0; position < ids.length; position++) {
      const row = slotOf[ids[position]!]!
      this.masks[row * this.words + (position >>> 5)]! |= 1 << (position & 31)
    }
    this.state = new Uint32Array(this.words)
  }

  /** Length of the longest common subsequence of the pattern and `other[start, end)`. */
  lcsWith(other: Uint32Array, start = 0, end = other.length): number {
    if (this.words === 1) return this.lcsSingleWord(other, start, end)
    return this.words === 2 ? this.lcsTwoWords(other, start, end) : this.lcsMultiWord(other, start, end)
  }

  /** Clears this pattern's entries from the borrowed slot table so it can serve the next pattern. */
  release(): void {
    for (const id of this.distinctIds) this.slotOf[id] = -1
  }

  private lcsSingleWord(other: Uint32Array, start: number, end: number): number {
    const { masks, slotOf } = this
    let v = 0xffffffff
    for (let k = start; k < end; k++) {
      const row = slotOf[other[k]!]!
      if (row < 0) continue
      const match = masks[row]!
      const u = (v & match) >>> 0
      v = ((v + u) | (v & ~match)) >>> 0
    }
    // Bits at and above the pattern length stay 1 (the masks never set them), so count zeros over all 32.
    return 32 - popcount32(v)
  }

  // Queries of 33–64 tokens are common (long instructions): two words in locals avoid the state array.
  private lcsTwoWords(other: Uint32Array, start: number, end: number): number {
    const { masks, slotOf } = this
    let low = 0xffffffff
    let high = 0xffffffff
    for (let k = start; k < end; k++) {
      const row = slotOf[other[k]!]!
      if (row < 0) continue
      const matchLow = masks[2 * row]!
      const matchHigh = masks[2 * row + 1]!
      const uLow = (low & matchLow) >>> 0
      const uHigh = (high & matchHigh) >>> 0
      const sumLow = low + uLow
      const carry = sumLow > 0xffffffff ? 1 : 0
      low = ((sumLow >>> 0) | (low & ~matchLow)) >>> 0
      high = (((high + uHigh + carry) >>> 0) | (high & ~matchHigh)) >>> 0
    }
    return 64 - popcount32(low) - popcount32(high)
  }

  private lcsMultiWord(other: Uint32Array, start: number, end: number): number {
    const { masks, slotOf, words, state } = this
    state.fill(0xffffffff)
    for (let k = start; k < end; k++) {
      const row = slotOf[other[k]!]!
      if (row < 0) continue
      const base = row * words
      let carry = 0
      for (let w = 0; w < words; w++) {
        const v = state[w]!
        const match = masks[base + w]!
        const u = (v & match) >>> 0
        // Unsigned 32-bit add with carry: the sum fits a float64 exactly.
        const sum = v + u + carry
        carry = sum > 0xffffffff ? 1 : 0
        state[w] = ((sum >>> 0) | (v & ~match)) >>> 0
      }
    }
    let ones = 0
    for (let w = 0; w < words; w++) ones += popcount32(state[w]!)
    return words * 32 - ones
  }
}

/**
 * LCS length of two integer-id sequences with the bit-parallel algorithm; same result as
 * `lcsLengthDP`. Convenience for one-off pairs: it remaps ids to a compact range first. Pools
 * should build one `LcsPattern` per query and reuse it.
 *
 * @example
 * ```ts
 * import { lcsLengthBitParallel } from "@refine-af/text"
 * lcsLengthBitParallel(Uint32Array.of(1, 2, 3), Uint32Array.of(1, 3)) // 2
 * ```
 */
export const lcsLengthBitParallel = (left: Uint32Array, right: Uint32Array): number => {
  const compact = new Map<number, number>()
  const remap = (ids: Uint32Array): Uint32Array =>
    ids.map((id) => {
      const known = compact.get(id)
      if (known !== undefined) return known
      compact.set(id, compact.size)
      return compact.size - 1
    })
  const leftCompact = remap(left)
  const rightCompact = remap(right)
  const pattern = new LcsPattern(leftCompact, new Int32Array(compact.size).fill(-1))
  return pattern.lcsWith(rightCompact)
}
