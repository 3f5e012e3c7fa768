/**
 * Feeds of a supervised fine-tuning batch: left-padded token ids, next-token
 * targets, and a loss mask that keeps only response tokens (prompt and padding
 * positions are masked out, as in instruction tuning).
 */
import type { HostTensor } from "@refine-af/tensor"
import { stepNames } from "@refine-af/models"
import type { LlamaRuntime } from "../model/runtime.ts"
import { leftPadRows, makeStepFeeds } from "@refine-af/models"

/** One training example: tokens and how many of them are prompt (not learned). */
export interface SftSequence {
  readonly ids: ReadonlyArray<number>
  readonly promptLength: number
}

/** Host feeds for `sequences` in a [batch, length] bucket (extra rows are padding with an all-zero mask). */
export const makeSftFeeds = (runtime: LlamaRuntime, sequences: ReadonlyArray<SftSequence>, batch: number, length: number): Record<string, HostTensor> => {
  const shape = { batch, length, cache: 0 }
  const rows = leftPadRows(sequences.map((s) => s.ids), length, runtime.padTokenId, 0)
  const targets = new BigInt64Array(batch * length).fill(BigInt(runtime.padTokenId))
  const mask = new Float32Array(batch * length)
  sequences.forEach((sequence, r) => {
    const padding = length - sequence.ids.length
    for (let k = 1; k < sequence.ids.length; k++) {
      const at = r * length + padding + k - 1
      targets[at] = BigInt(sequence.ids[k]!)
      // The logit at token k-1 predicts token k; learn it only when token k is part of the response.
      if (k >= sequence.promptLength) mask[at] = 1
    }
  })
  return {
    ...makeStepFeeds(runtime.config, runtime.frequencies, shape, rows, runtime.padTokenId),
    [stepNames.targets]: { dtype: "int64", shape: [batch, length], data: targets },
    [stepNames.lossMask]: { dtype: "float32", shape: [batch, length], data: mask }
  }
}
