/**
 * Token id → (entry, occurrences) postings. Answers, for a query, the multiset overlap
 * Σ_token min(count in query, count in entry) with every entry sharing at least one token,
 * touching only those entries. The overlap bounds the LCS from above, which is what lets the
 * pool skip most LCS computations.
 */
export class InvertedIndex {
  // postings[id] holds interleaved (entry, count) pairs; lengths[id] counts used slots.
  private readonly postings: Array<Uint32Array | undefined> = []
  private readonly lengths: Array<number> = []

  /** Indexes entry `entry` (a local, dense index) with token ids `ids`. */
  add(entry: number, ids: Uint32Array): void {
    const counts = new Map<number, number>()
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1)
    for (const [id, count] of counts) {
      let list = this.postings[id]
      const used = this.lengths[id] ?? 0
      if (list === undefined || used + 2 > list.length) {
        const grown = new Uint32Array(Math.max(8, (list?.length ?? 0) * 2))
        if (list !== undefined) grown.set(list)
        list = grown
        this.postings[id] = grown
      }
      list[used] = entry
      list[used + 1] = count
      this.lengths[id] = used + 2
    }
  }

  /**
   * Adds each entry's multiset overlap with the query (given as distinct ids and their counts)
   * into `overlap`, appending newly touched entries to `touched`. Returns the new touched count.
   * The caller zeroes `overlap` for the touched entries afterwards.
   */
  accumulateOverlap(
    distinctIds: ReadonlyArray<number>,
    queryCounts: ReadonlyArray<number>,
    overlap: Int32Array,
    touched: Int32Array,
    touchedCount: number
  ): number {
    let count = touchedCount
    for (let k = 0; k < distinctIds.length; k++) {
      const id = distinctIds[k]!
      const list = this.postings[id]
      if (list === undefined) continue
      const used = this.lengths[id]!
      const queryCount = queryCounts[k]!
      for (let slot = 0; slot < used; slot += 2) {
        const entry = list[slot]!
        if (overlap[entry] === 0) touched[count++] = entry
        overlap[entry]! += Math.min(queryCount, list[slot + 1]!)
      }
    }
    return count
  }
}
