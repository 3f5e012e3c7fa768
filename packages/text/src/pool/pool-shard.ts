import { LcsPattern } from "../lcs/bit-parallel-lcs.ts"
import { rougeLFMeasure } from "../metrics/rouge-l-formula.ts"
import { LengthGroups } from "./length-groups.ts"
import { NeighbourCollector, type ScoredIndex } from "./neighbours.ts"
import { TokenStore } from "./token-store.ts"

/** What one shard reports for one query; shards' reports merge exactly (max, merged top, sums). */
export interface ShardScores {
  /** Max F over the shard (0 if empty); in "decision" mode NaN unless some entry exceeds the threshold. */
  readonly maxScore: number
  /** Best entries, best first (ties: lower pool index); zero-score entries only to fill up to topK. */
  readonly top: ReadonlyArray<ScoredIndex>
  /** Sum of F over all entries ("all" mode only, else 0). */
  readonly scoreSum: number
}

/**
 * How much of the answer a query needs; the less, the more pairs are skipped.
 * - "decision": only whether some F > threshold (plus the exact max when it is).
 * - "top": the exact max and top-k.
 * - "all": every score, for sums/means; no pruning.
 */
export type ShardQueryNeeds =
  | { readonly mode: "decision"; readonly threshold: number }
  | { readonly mode: "top"; readonly topK: number }
  | { readonly mode: "all"; readonly topK: number }

/** Neighbours a query asks for (none in "decision" mode). */
export const topKOf = (needs: ShardQueryNeeds): number => (needs.mode === "decision" ? 0 : needs.topK)

/**
 * A set of tokenized texts answering exact ROUGE-L queries without scoring every pair.
 *
 * Why skipping is exact: for fixed token counts m, n, F = 2PR/(P+R) grows with the LCS, and
 * LCS ≤ multiset overlap ≤ min(m, n); F(bound, m, n), computed with the very same float formula,
 * bounds the true score. The collector says which scores still matter (above the threshold, or
 * able to enter the top-k; ties count). Entries are grouped by length n and groups visited best
 * case first, so a whole group is skipped once its best case F(min(m, n), m, n) no longer
 * matters. In a group, the inverted index yields every entry's exact multiset overlap, entries
 * are scored from the highest overlap down, and the rest of the group is skipped at the first
 * overlap level whose bound no longer matters. Entries sharing no token score 0 and are never
 * visited. (Scanning only the rarest query tokens, prefix filtering, was tried: its looser
 * bounds cost more bit-parallel LCS runs than the posting lists it saved.)
 */
export class PoolShard {
  private readonly texts = new TokenStore()
  private readonly poolIndices: Array<number> = []
  private readonly groups = new LengthGroups()
  private overlap = new Int32Array(1024)
  private touched = new Int32Array(1024)
  private order = new Int32Array(1024)
  private slotOf = new Int32Array(1024).fill(-1)

  /** Entries held by this shard. */
  get size(): number {
    return this.texts.size
  }

  /** Adds a tokenized text under its pool-wide index. */
  add(poolIndex: number, ids: Uint32Array): void {
    const entry = this.texts.add(ids)
    this.poolIndices.push(poolIndex)
    this.groups.add(entry, ids)
    if (entry >= this.overlap.length) {
      this.overlap = grow(this.overlap, entry + 1, 0)
      this.touched = new Int32Array(this.overlap.length)
      this.order = new Int32Array(this.overlap.length)
    }
  }

  /** Scores `query` against every entry, doing only the LCS work `needs` requires. */
  score(query: Uint32Array, needs: ShardQueryNeeds): ShardScores {
    const m = query.length
    const topK = topKOf(needs)
    const collector = needs.mode === "decision"
      ? new NeighbourCollector(1, needs.threshold)
      : new NeighbourCollector(Math.max(1, topK))
    if (m === 0 || this.texts.size === 0) return this.finish(collector, needs, topK, 0)
    this.ensureSlotCapacity(query)
    const { distinctIds, counts } = countTokens(query)
    const pattern = new LcsPattern(query, this.slotOf)
    const everything = needs.mode === "all"
    let touchedCount = 0
    let scoreSum = 0
    try {
      for (const { group, bestCase } of this.groups.byBestCase(m)) {
        if (!everything && !collector.admits(bestCase)) break
        const groupStart = touchedCount
        for (let k = 0; k < distinctIds.length; k++) {
          touchedCount = group.index.accumulateOverlap(distinctIds[k]!, counts[k]!, this.overlap, this.touched, touchedCount)
        }
        scoreSum += this.evaluateGroup(pattern, collector, m, group.length, groupStart, touchedCount, everything)
      }
      return this.finish(collector, needs, topK, scoreSum)
    } finally {
      pattern.release()
      for (let k = 0; k < touchedCount; k++) this.overlap[this.touched[k]!] = 0
    }
  }

  /**
   * Scores the touched entries [from, to) of one length group, highest bound first, stopping at
   * the first bound level the collector no longer admits. Returns the sum of the scores computed.
   */
  private evaluateGroup(
    pattern: LcsPattern,
    collector: NeighbourCollector,
    m: number,
    n: number,
    from: number,
    to: number,
    everything: boolean
  ): number {
    const store = this.texts
    const tokens = store.data
    let scoreSum = 0
    if (everything) {
      // No pruning, so no order needed.
      for (let k = from; k < to; k++) {
        const entry = this.touched[k]!
        const score = rougeLFMeasure(pattern.lcsWith(tokens, store.start(entry), store.end(entry)), m, n)
        scoreSum += score
        collector.offer(this.poolIndices[entry]!, score)
      }
      return scoreSum
    }
    const top = Math.min(m, n)
    const levelOf = (entry: number) => Math.min(this.overlap[entry]!, top)
    // Counting sort by bound level.
    const start = new Int32Array(top + 2)
    for (let k = from; k < to; k++) start[levelOf(this.touched[k]!) + 1]!++
    for (let level = 1; level <= top + 1; level++) start[level]! += start[level - 1]!
    const next = start.slice()
    for (let k = from; k < to; k++) {
      const entry = this.touched[k]!
      this.order[next[levelOf(entry)]!++] = entry
    }
    for (let level = top; level >= 1; level--) {
      if (!collector.admits(rougeLFMeasure(level, m, n))) break
      for (let slot = start[level]!; slot < start[level + 1]!; slot++) {
        const entry = this.order[slot]!
        const score = rougeLFMeasure(pattern.lcsWith(tokens, store.start(entry), store.end(entry)), m, n)
        scoreSum += score
        collector.offer(this.poolIndices[entry]!, score)
      }
    }
    return scoreSum
  }

  private finish(collector: NeighbourCollector, needs: ShardQueryNeeds, topK: number, scoreSum: number): ShardScores {
    const top = collector.items.slice(0, topK)
    // Fewer than topK entries share a token (then every sharing entry was scanned and scored):
    // fill with the earliest zero-score (untouched) entries, as a full argsort would.
    for (let entry = 0; top.length < topK && entry < this.texts.size; entry++) {
      if (this.overlap[entry] === 0) top.push({ index: this.poolIndices[entry]!, score: 0 })
    }
    const best = collector.items[0]?.score
    return { maxScore: best ?? (needs.mode === "decision" ? Number.NaN : 0), top, scoreSum }
  }

  private ensureSlotCapacity(query: Uint32Array): void {
    let maxId = 0
    for (const id of query) maxId = Math.max(maxId, id)
    if (maxId >= this.slotOf.length) this.slotOf = grow(this.slotOf, maxId + 1, -1)
  }
}

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
