/** A pool entry close to a query: its pool index and ROUGE-L F-measure. */
export interface ScoredIndex {
  readonly index: number
  readonly score: number
}

/** Orders neighbours best first: higher score, then the earlier pool entry. A total order, so results never depend on scan order. */
export const compareNeighbours = (a: ScoredIndex, b: ScoredIndex): number => b.score - a.score || a.index - b.index

/**
 * Keeps the best `capacity` scored entries seen so far (capacity is small, ~10: insertion into a
 * sorted array beats a heap), ignoring scores at or below `floor`. `admits(bound)` says whether
 * an entry whose score can be at most `bound` could still enter; pruning with it is exact
 * because ties are kept (`bound === worst` is admitted and then ordered by index).
 */
export class NeighbourCollector {
  readonly items: Array<ScoredIndex> = []

  constructor(readonly capacity: number, readonly floor = -Infinity) {}

  /** True when the collection holds `capacity` entries. */
  get full(): boolean {
    return this.items.length === this.capacity
  }

  /** True when an entry with score at most `bound` could still enter the collection. */
  admits(bound: number): boolean {
    return bound > this.floor && (this.items.length < this.capacity || bound >= this.items[this.items.length - 1]!.score)
  }

  offer(index: number, score: number): void {
    if (!(score > this.floor)) return
    const candidate = { index, score }
    if (this.items.length === this.capacity) {
      if (compareNeighbours(candidate, this.items[this.capacity - 1]!) >= 0) return
      this.items.pop()
    }
    let position = this.items.length
    while (position > 0 && compareNeighbours(candidate, this.items[position - 1]!) < 0) position--
    this.items.splice(position, 0, candidate)
  }
}

/** Merges several best-first lists (one per shard) into the best `capacity` overall. */
export const mergeNeighbours = (lists: ReadonlyArray<ReadonlyArray<ScoredIndex>>, capacity: number): Array<ScoredIndex> =>
  lists.flat().sort(compareNeighbours).slice(0, capacity)
