import { rougeLFMeasure } from "../metrics/rouge-l-formula.ts"
import { InvertedIndex } from "./inverted-index.ts"

/** The entries of one token count n, with their own inverted index. */
export interface LengthGroup {
  readonly length: number
  readonly index: InvertedIndex
}

/**
 * Entries partitioned by token count. Within a group every entry has the same n, so the score
 * bound F(overlap, m, n) depends on the overlap alone, and a whole group is skipped when even
 * its best case F(min(m, n), m, n) cannot matter.
 */
export class LengthGroups {
  private readonly groupByLength = new Map<number, LengthGroup>()
  private sortedLengths: Array<number> = []

  add(entry: number, ids: Uint32Array): void {
    let group = this.groupByLength.get(ids.length)
    if (group === undefined) {
      group = { length: ids.length, index: new InvertedIndex() }
      this.groupByLength.set(ids.length, group)
      this.sortedLengths = [...this.groupByLength.keys()].sort((a, b) => a - b)
    }
    group.index.add(entry, ids)
  }

  /**
   * Groups in decreasing order of their best case against a query of m tokens, so that good
   * neighbours are found early and the rest can be cut off: lengths closest to m first
   * (2n/(m+n) below m, 2m/(m+n) above).
   */
  *byBestCase(m: number): Generator<{ group: LengthGroup; bestCase: number }> {
    const lengths = this.sortedLengths
    let above = lengths.findIndex((n) => n >= m)
    if (above === -1) above = lengths.length
    let below = above - 1
    const bestCaseOf = (n: number) => rougeLFMeasure(Math.min(m, n), m, n)
    while (below >= 0 || above < lengths.length) {
      const belowCase = below >= 0 ? bestCaseOf(lengths[below]!) : -1
      const aboveCase = above < lengths.length ? bestCaseOf(lengths[above]!) : -1
      const takeAbove = aboveCase >= belowCase
      const length = takeAbove ? lengths[above++]! : lengths[below--]!
      yield { group: this.groupByLength.get(length)!, bestCase: takeAbove ? aboveCase : belowCase }
    }
  }
}
