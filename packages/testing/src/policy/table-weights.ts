/**
 * The table policy's mutable state (adapter, value head, AdamW moments, step,
 * random stream) and host-side math on it: next-token logits for sampling and
 * scoring, and the batch layout the programs read.
 */
import type { TokenSequence } from "@refine-af/training"
import { paramNames } from "./table-program.ts"
import type { Rng } from "./rng.ts"

export interface TableWeights {
  readonly vocab: number
  readonly rank: number
  readonly scale: number
  /** Frozen base logits [V, V], row = previous token. */
  readonly table: Float64Array
  /** Trainable parameters by program name (adapter A/B, value head). */
  readonly params: Map<string, Float64Array>
  /** AdamW moments by state-input name (`adamw.m/<param>`, `adamw.v/<param>`). */
  readonly moments: Map<string, Float64Array>
  step: number
  readonly rng: Rng
}

/** Next-token logits after token `prev`; `adapter: false` gives the base (reference) policy. */
export const logitsAfter = (w: TableWeights, prev: number, adapter: boolean): Float64Array => {
  const v = w.vocab
  const row = w.table.slice(prev * v, prev * v + v)
  if (!adapter) return row
  const a = w.params.get(paramNames.a)!
  const b = w.params.get(paramNames.b)!
  for (let j = 0; j < w.rank; j++) {
    const aj = a[j * v + prev]! * w.scale
    if (aj === 0) continue
    for (let o = 0; o < v; o++) row[o] = row[o]! + b[o * w.rank + j]! * aj
  }
  return row
}

/** log-softmax of a row. */
export const logSoftmaxRow = (row: Float64Array): Float64Array => {
  let max = -Infinity
  for (const x of row) max = Math.max(max, x)
  let total = 0
  for (const x of row) total += Math.exp(x - max)
  const lse = max + Math.log(total)
  return row.map((x) => x - lse)
}

/** Completion tokens laid out [batch, positions]: column k = completion token k, predicted from the token before it. */
export interface Layout {
  readonly positions: number
  readonly prev: Float64Array
  readonly target: Float64Array
  readonly mask: Float64Array
  readonly tokens: number
}

/** Smallest power of two ≥ n (≥ 4): the positions bucket, so programs are reused across batches. */
export const positionsBucket = (n: number): number => {
  let p = 4
  while (p < n) p *= 2
  return p
}

export const layout = (batch: ReadonlyArray<TokenSequence>): Layout => {
  const positions = positionsBucket(Math.max(...batch.map((s) => s.tokens.length - s.promptLength)))
  const prev = new Float64Array(batch.length * positions)
  const target = new Float64Array(batch.length * positions)
  const mask = new Float64Array(batch.length * positions)
  let tokens = 0
  batch.forEach((s, b) => {
    for (let k = 0; k < s.tokens.length - s.promptLength; k++) {
      const at = b * positions + k
      prev[at] = s.tokens[s.promptLength + k - 1]!
      target[at] = s.tokens[s.promptLength + k]!
      mask[at] = 1
      tokens++
    }
  })
  return { positions, prev, target, mask, tokens }
}

/** Places per-completion-token host rows into the [batch, positions] layout (zeros elsewhere). */
export const placeRows = (rows: ReadonlyArray<ReadonlyArray<number>>, positions: number): Float64Array => {
  const out = new Float64Array(rows.length * positions)
  rows.forEach((row, b) => row.forEach((x, k) => void (out[b * positions + k] = x)))
  return out
}

/** Reads row b's completion values back out of a [batch, positions] output. */
export const takeRow = (data: ArrayLike<number>, b: number, positions: number, length: number): Array<number> =>
  Array.from({ length }, (_, k) => data[b * positions + k]!)
