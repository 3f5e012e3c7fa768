/** One token's postings: interleaved (entry, count in entry) pairs, `used` slots filled. */
interface Postings {
  list: Uint32Array
  used: number
}

/**
 * Token id → (entry, occurrences) postings over a set of entries. For a query token it adds
 * min(count in query, count in entry) to each containing entry's running overlap; summed over
 * the query's tokens this is the multiset overlap, an upper bound on the LCS.
 */
export class InvertedIndex {
  private readonly postingsById = new Map<number, Postings>()

  /** Indexes entry `entry` with token ids `ids`. Entries must be added in increasing order. */
  add(entry: number, ids: Uint32Array): void {
    const counts = new Map<number, number>()
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1)
    for (const [id, count] of counts) {
      let postings = this.postingsById.get(id)
      if (postings === undefined) {
        postings = { list: new Uint32Array(8), used: 0 }
        this.postingsById.set(id, postings)
      }
      if (postings.used + 2 > postings.list.length) {
        const grown = new Uint32Array(postings.list.length * 2)
        grown.set(postings.list)
        postings.list = grown
      }
      postings.list[postings.used] = entry
      postings.list[postings.used + 1] = count
      postings.used += 2
    }
  }

  /**
   * Adds token `id`'s share of the overlap into `overlap` for every entry containing it,
   * appending newly touched entries (overlap was 0) to `touched`. Returns the new touched count.
   * The caller zeroes `overlap` for the touched entries afterwards.
   */
  accumulateOverlap(id: number, queryCount: number, overlap: Int32Array, touched: Int32Array, touchedCount: number): number {
    const postings = this.postingsById.get(id)
    if (postings === undefined) return touchedCount
    const { list, used } = postings
    let count = touchedCount
    for (let slot = 0; slot < used; slot += 2) {
      const entry = list[slot]!
      if (overlap[entry] === 0) touched[count++] = entry
      overlap[entry]! += Math.min(queryCount, list[slot + 1]!)
    }
    return count
  }
}
