/**
 * "Did you mean" suggestions by edit distance, for unknown names (components,
 * stages, keys, override paths).
 *
 * @example
 * ```ts
 * import { didYouMean } from "@refine-af/core"
 * didYouMean("reward/composit", ["reward/composite", "demo/lines"]) // "reward/composite"
 * ```
 */

/** Edit distance counting insertions, deletions, substitutions and swaps of adjacent letters as 1 each (optimal string alignment). */
export const editDistance = (a: string, b: string): number => {
  const rows: Array<Array<number>> = [Array.from({ length: b.length + 1 }, (_, j) => j)]
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      row.push(best)
    }
    rows.push(row)
  }
  return rows[a.length]![b.length]!
}

/**
 * The closest candidate, if it is close enough to be a plausible typo: at most
 * a third of the name's length away (at least 1, at most 3 edits).
 */
export const didYouMean = (name: string, candidates: Iterable<string>): string | undefined => {
  const budget = Math.min(3, Math.max(1, Math.floor(name.length / 3)))
  let best: { candidate: string; distance: number } | undefined
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance <= budget && (best === undefined || distance < best.distance)) best = { candidate, distance }
  }
  return best?.candidate
}

/** A message suffix: `; did you mean "x"?`, or "" when nothing is close. */
export const didYouMeanSuffix = (name: string, candidates: Iterable<string>): string => {
  const suggestion = didYouMean(name, candidates)
  return suggestion === undefined ? "" : `; did you mean "${suggestion}"?`
}
