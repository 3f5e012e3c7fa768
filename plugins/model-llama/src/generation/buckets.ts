/**
 * Shape buckets: programs are compiled per static shape, so batch sizes,
 * prompt lengths and cache sizes are rounded up to a few values — a handful of
 * compiled programs then serve any mix of requests.
 */

/** Batch bucket: the next power of two (1, 2, 4, 8, …). */
export const batchBucket = (rows: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, rows)))

/** Length bucket: the next multiple of 16 (at least 16). */
export const lengthBucket = (tokens: number): number => Math.max(16, Math.ceil(tokens / 16) * 16)

/**
 * Head window: the multiple of 16 holding the longest completion (or scored
 * continuation) and the position before it — the last positions whose logits
 * a policy or scoring program computes — at most `length` (a length bucket).
 */
export const windowBucket = (longestCompletion: number, length: number): number => Math.min(length, lengthBucket(longestCompletion + 1))

/**
 * Column, among the last `window` positions of a left-padded row, of the logit
 * that predicts token `index` of a sequence of `length` tokens (the logit at a
 * position predicts the token after it).
 */
export const windowColumn = (window: number, length: number, index: number): number => window - length + index - 1

/** Cache bucket: the next multiple of 64 that holds `tokens`, capped at the context length (never below `tokens`). */
export const cacheBucket = (tokens: number, contextLength: number): number => Math.max(tokens, Math.min(Math.ceil(tokens / 64) * 64, contextLength))

/**
 * The distinct items of `items` by `keyOf` (first occurrence kept, in order)
 * and, for each item, the index of its distinct representative: how rows of
 * one prompt find the prefill or the prompt pass they share.
 */
export const distinctBy = <T>(items: ReadonlyArray<T>, keyOf: (item: T) => string): { readonly unique: Array<T>; readonly of: Array<number> } => {
  const index = new Map<string, number>()
  const unique: Array<T> = []
  const of = items.map((item) => {
    const key = keyOf(item)
    let at = index.get(key)
    if (at === undefined) {
      at = unique.length
      index.set(key, at)
      unique.push(item)
    }
    return at
  })
  return { unique, of }
}
