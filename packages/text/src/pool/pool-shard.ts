import { LcsPattern } from "../lcs/bit-parallel-lcs.ts"
import { rougeLFMeasure } from "../metrics/rouge-l.ts"
import { InvertedIndex } from "./inverted-index.ts"
import { NeighbourCollector, type ScoredIndex } from "./neighbours.ts"

/** What one shard reports for one query; shards' reports merge exactly (max, merged top, sums). */
export interface ShardScores {
  /** Exact max F over the shard's entries (0 when none shares a token). */
  readonly maxScore: number
  /** Best entries, best first, by pool index; at most the requested capacity, only scores > 0. */
  readonly top: ReadonlyArray<ScoredIndex>
  /** Sum of F over all entries; only when requested (it forces scoring every touched entry). */
  readonly scoreSum: number
}

/** How much of the answer a query needs; less needed means more pairs skipped. */
export interface ShardQueryNeeds {
  /** Neighbours to return (0 allowed: only the max is needed). */
  readonly topK: number
  /** Compute `scoreSum` (for mean similarity): no pruning. */
  readonly scoreSum: boolean
}

/**
 * A set of tokenized texts with an inverted index, answering exact ROUGE-L queries.
 *
 * Exactness of the pruning: F = 2PR/(P+R) grows with the LCS length for fixed token counts,
 * and LCS ≤ multiset overlap ≤ min(m, n). So `F(overlap, m, n)`, computed with the very same
 * float formula, bounds the true score from above, and an entry is skipped only when that bound
 * is below the worst score still wanted (strictly: ties are scored). Entries are visited from
 * the largest overlap down, and a whole overlap level is dropped once even its best case
 * F(o, m, o) cannot enter. Entries sharing no token score exactly 0 and are never visited.
 */
export class PoolShard {
  private readonly texts: Array<Uint32Array> = []
  private readonly poolIndices: Array<number> = []
  private readonly index = new InvertedIndex()
  private overlap = new Int32Array(1024)
  private touched = new Int32Array(1024)
  private slotOf = new Int32Array(1024).fill(-1)

  /** Entries held by this shard. */
  get size(): number {
    return this.texts.length
  }

  /** Adds a tokenized text under its pool-wide index. */
  add(poolIndex: number, ids: Uint32Array): void {
    const entry = this.texts.length
    this.texts.push(ids)
    this.poolIndices.push(poolIndex)
    this.index.add(entry, ids)
    if (entry >= this.overlap.length) {
      this.overlap = grow(this.overlap, entry + 1, 0)
      this.touched = new Int32Array(this.overlap.length)
    }
  }

  /** Scores `query` against every entry, doing only the LCS work `needs` requires. */
  score(query: Uint32Array, needs: ShardQueryNeeds): ShardScores {
    const m = query.length
    if (m === 0 || this.texts.length === 0) return { maxScore: 0, top: [], scoreSum: 0 }
    this.ensureSlotCapacity(query)
    const { distinctIds, counts } = countTokens(query)
    const touchedCount = this.index.accumulateOverlap(distinctIds, counts, this.overlap, this.touched, 0)
    const pattern = new LcsPattern(query, this.slotOf)
    try {
      return needs.scoreSum
        ? this.scoreAllTouched(pattern, touchedCount, needs.topK)
        : this.scoreWithPruning(pattern, touchedCount, Math.max(1, needs.topK), needs.topK)
    } finally {
      pattern.release()
      for (let k = 0; k < touchedCount; k++) this.overlap[this.touched[k]!] = 0
    }
  }

  private scoreAllTouched(pattern: LcsPattern, touchedCount: number, topK: number): ShardScores {
    const m = pattern.ids.length
    const collector = new NeighbourCollector(Math.max(1, topK))
    let scoreSum = 0
    for (let k = 0; k < touchedCount; k++) {
      const entry = this.touched[k]!
      const text = this.texts[entry]!
      const score = rougeLFMeasure(pattern.lcsWith(text), m, text.length)
      scoreSum += score
      collector.offer(this.poolIndices[entry]!, score)
    }
    return finish(collector, topK, scoreSum)
  }

  private scoreWithPruning(pattern: LcsPattern, touchedCount: number, capacity: number, topK: number): ShardScores {
    const m = pattern.ids.length
    const byOverlap = this.bucketTouchedByOverlap(touchedCount, m)
    const collector = new NeighbourCollector(capacity)
    for (let level = m; level >= 1; level--) {
      // Best case for this level: the entry is exactly the shared tokens (n = o, LCS = o).
      if (!collector.admits(rougeLFMeasure(level, m, level))) break
      for (let slot = byOverlap.start[level]!; slot < byOverlap.start[level + 1]!; slot++) {
        const entry = byOverlap.order[slot]!
        const text = this.texts[entry]!
        if (!collector.admits(rougeLFMeasure(level, m, text.length))) continue
        collector.offer(this.poolIndices[entry]!, rougeLFMeasure(pattern.lcsWith(text), m, text.length))
      }
    }
    return finish(collector, topK, 0)
  }

  /** Counting sort of the touched entries by overlap (≤ m, since overlap ≤ query length). */
  private bucketTouchedByOverlap(touchedCount: number, m: number): { start: Int32Array; order: Int32Array } {
    const start = new Int32Array(m + 2)
    for (let k = 0; k < touchedCount; k++) start[this.overlap[this.touched[k]!]! + 1]!++
    for (let level = 1; level <= m + 1; level++) start[level]! += start[level - 1]!
    const next = start.slice()
    const order = new Int32Array(touchedCount)
    for (let k = 0; k < touchedCount; k++) {
      const entry = this.touched[k]!
      order[next[this.overlap[entry]!]!++] = entry
    }
    return { start, order }
  }

  private ensureSlotCapacity(query: Uint32Array): void {
    let maxId = 0
    for (const id of query) maxId = Math.max(maxId, id)
    if (maxId >= this.slotOf.length) this.slotOf = grow(this.slotOf, maxId + 1, -1)
  }
}

const finish = (collector: NeighbourCollector, topK: number, scoreSum: number): ShardScores => ({
  maxScore: collector.items[0]?.score ?? 0,
  top: collector.items.slice(0, topK),
  scoreSum
})

const countTokens = (ids: Uint32Array): { distinctIds: Array<number>; counts: Array<number> } => {
  const countById = new Map<number, number>()
  for (const id of ids) countById.set(id, (countById.get(id) ?? 0) + 1)
  return { distinctIds: [...countById.keys()], counts: [...countById.values()] }
}

const grow = (array: Int32Array, minimum: number, fill: number): Int32Array<ArrayBuffer> => {
  let capacity = array.length
  while (capacity < minimum) capacity *= 2
  const grown = new Int32Array(capacity).fill(fill)
  grown.set(array)
  return grown
}
