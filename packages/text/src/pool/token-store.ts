/**
 * All entries' token ids in one contiguous array (entry k is `ids[offsets[k], offsets[k+1])`).
 * One allocation instead of one typed array per text: scoring jumps between thousands of
 * entries per query, and a flat array costs one cache miss per entry instead of two (object,
 * then its backing store) and adds no GC pressure.
 */
export class TokenStore {
  private ids = new Uint32Array(4096)
  private offsets = new Int32Array(1025)
  private entries = 0

  /** Number of entries stored. */
  get size(): number {
    return this.entries
  }

  /** The flat id array; valid until the next `add`. */
  get data(): Uint32Array {
    return this.ids
  }

  /** Appends an entry; returns its index. */
  add(tokens: Uint32Array): number {
    const begin = this.offsets[this.entries]!
    if (begin + tokens.length > this.ids.length) {
      const grown = new Uint32Array(Math.max(this.ids.length * 2, begin + tokens.length))
      grown.set(this.ids)
      this.ids = grown
    }
    if (this.entries + 2 > this.offsets.length) {
      const grown = new Int32Array(this.offsets.length * 2)
      grown.set(this.offsets)
      this.offsets = grown
    }
    this.ids.set(tokens, begin)
    this.offsets[this.entries + 1] = begin + tokens.length
    return this.entries++
  }

  /** Start offset of entry k in `data`. */
  start(entry: number): number {
    return this.offsets[entry]!
  }

  /** End offset (exclusive) of entry k in `data`. */
  end(entry: number): number {
    return this.offsets[entry + 1]!
  }
}
