/**
 * Host feeds of a policy batch. Sequences are left-padded to a length bucket
 * (batch padded to a power of two with empty rows); the logit at padded
 * position j predicts the token at j + 1, so completion token k of a sequence
 * with n tokens sits at column (L − n) + promptLength + k − 1. Targets, the
 * completion mask and every per-token feed use that column.
 */
import type { HostTensor } from "@refine-af/tensor"
import { completionLength, type TokenSequence } from "@refine-af/training"
import { batchBucket, lengthBucket } from "../generation/buckets.ts"
import { leftPadRows, makeStepFeeds, stepNames } from "@refine-af/models"
import type { LlamaRuntime } from "../model/runtime.ts"
import { policyNames, type PolicyShape } from "./policy-program.ts"

export interface PolicyLayout {
  readonly shape: PolicyShape
  /** Column of completion token k of sequence i. */
  readonly column: (i: number, k: number) => number
  /** Trunk inputs, targets and the completion mask. */
  readonly feeds: Record<string, HostTensor>
  /** Completion tokens in the batch. */
  readonly tokens: number
}

export const policyLayout = (runtime: LlamaRuntime, batch: ReadonlyArray<TokenSequence>): PolicyLayout => {
  const shape = { batch: batchBucket(batch.length), length: lengthBucket(Math.max(...batch.map((s) => s.tokens.length))) }
  const column = (i: number, k: number) => shape.length - batch[i]!.tokens.length + batch[i]!.promptLength + k - 1
  const rows = leftPadRows(batch.map((s) => s.tokens), shape.length, runtime.padTokenId, 0)
  const targets = new BigInt64Array(shape.batch * shape.length).fill(BigInt(runtime.padTokenId))
  const mask = new Float32Array(shape.batch * shape.length)
  let tokens = 0
  batch.forEach((s, i) => {
    for (let k = 0; k < completionLength(s); k++) {
      const at = i * shape.length + column(i, k)
      targets[at] = BigInt(s.tokens[s.promptLength + k]!)
      mask[at] = 1
      tokens++
    }
  })
  return {
    shape,
    column,
    tokens,
    feeds: {
      ...makeStepFeeds(runtime.config, runtime.frequencies, { ...shape, cache: 0 }, rows, runtime.padTokenId),
      [stepNames.targets]: { dtype: "int64", shape: [shape.batch, shape.length], data: targets },
      [policyNames.completionMask]: { dtype: "float32", shape: [shape.batch, shape.length], data: mask }
    }
  }
}

/** Places per-completion-token rows into a [batch, length] float32 feed. */
export const placeFeed = (layout: PolicyLayout, rows: ReadonlyArray<ReadonlyArray<number>>): HostTensor => {
  const data = new Float32Array(layout.shape.batch * layout.shape.length)
  rows.forEach((row, i) => row.forEach((x, k) => void (data[i * layout.shape.length + layout.column(i, k)] = x)))
  return { dtype: "float32", shape: [layout.shape.batch, layout.shape.length], data }
}

/** Reads sequence i's completion values out of a [batch, length] output. */
export const readRow = (layout: PolicyLayout, data: ArrayLike<number>, i: number, count: number): Array<number> =>
  Array.from({ length: count }, (_, k) => data[i * layout.shape.length + layout.column(i, k)]!)
