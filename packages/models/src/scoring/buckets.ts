/**
 * Length-bucketed batches for scoring programs compiled per static shape: rows
 * are sorted by token length, cut into batches of `batchSize`, and each batch
 * is padded to the smallest bucket length that fits its longest row (powers of
 * two from `minLength`, capped at `maxLength`), so a handful of executables
 * serve any mix of lengths and short rows never pay for long ones.
 *
 * @example
 * ```ts
 * import { planBatches } from "@refine-af/models"
 * planBatches([3, 40, 5, 9], { batchSize: 2, maxLength: 64 })
 * // [{ rows: [0, 2], length: 8 }, { rows: [3, 1], length: 64 }]
 * ```
 */

export interface PlannedBatch {
  /** Row indices (into the lengths given), shortest first. */
  readonly rows: ReadonlyArray<number>
  /** The padded sequence length of this batch. */
  readonly length: number
}

/** The bucket length for `n` tokens. */
export const bucketLength = (n: number, options: { readonly maxLength: number; readonly minLength?: number }): number => {
  let length = options.minLength ?? 8
  while (length < n) length *= 2
  return Math.min(length, options.maxLength)
}

/** Groups rows of the given lengths into length-sorted, bucket-padded batches. */
export const planBatches = (
  lengths: ReadonlyArray<number>,
  options: { readonly batchSize: number; readonly maxLength: number; readonly minLength?: number }
): Array<PlannedBatch> => {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b)
  const batches: Array<PlannedBatch> = []
  for (let start = 0; start < order.length; start += options.batchSize) {
    const rows = order.slice(start, start + options.batchSize)
    batches.push({ rows, length: bucketLength(lengths[rows[rows.length - 1]!]!, options) })
  }
  return batches
}
