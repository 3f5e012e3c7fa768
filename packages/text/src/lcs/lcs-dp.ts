/**
 * The classic O(m·n) dynamic-programming LCS length, as in rouge_score's `_lcs_table`. This is
 * the executable spec the bit-parallel LCS is tested against; it keeps one row, so memory is
 * O(n).
 *
 * @example
 * ```ts
 * import { lcsLengthDP } from "@refine-af/text"
 * lcsLengthDP(["a", "b", "c"], ["a", "c"]) // 2
 * ```
 */
export const lcsLengthDP = <T>(left: ArrayLike<T>, right: ArrayLike<T>): number => {
  const columns = right.length
  const row = new Uint32Array(columns + 1)
  for (let i = 0; i < left.length; i++) {
    let diagonal = 0 // row[j - 1] of the previous row
    const item = left[i]
    for (let j = 1; j <= columns; j++) {
      const above = row[j]!
      row[j] = item === right[j - 1] ? diagonal + 1 : Math.max(above, row[j - 1]!)
      diagonal = above
    }
  }
  return row[columns]!
}
