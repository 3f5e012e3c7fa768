/**
 * Log-probabilities of given continuations: one forward per batch of
 * left-padded (prompt ++ continuation) sequences, with the per-position
 * target log-probabilities computed inside the program so only [batch, length]
 * numbers come back, not the logits.
 */
import type { LanguageModelError } from "@refine-af/core"
import type { BackendError, HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import type { LlamaRuntime } from "../model/runtime.ts"
import { stepNames } from "@refine-af/models"
import { leftPadRows, makeStepFeeds } from "@refine-af/models"
import { batchBucket, lengthBucket } from "../generation/buckets.ts"
import { checkFinite } from "../generation/finite-check.ts"
import type { ActiveAdapter } from "../generation/generate.ts"

/** A sequence to score: its tokens and the index of the first token whose log-probability is wanted (≥ 1). */
export interface ScoredSequence {
  readonly ids: ReadonlyArray<number>
  readonly from: number
}

/** log p(ids[k] | ids[<k]) for k ≥ from, per sequence, in input order. */
export const scoreSequences = (runtime: LlamaRuntime, sequences: ReadonlyArray<ScoredSequence>, maxBatch: number, adapter?: ActiveAdapter): Effect.Effect<Array<Array<number>>, BackendError | LanguageModelError> =>
  Effect.gen(function* () {
    const results: Array<Array<number>> = []
    for (let start = 0; start < sequences.length; start += maxBatch) {
      const chunk = sequences.slice(start, start + maxBatch)
      const shape = { batch: batchBucket(chunk.length), length: lengthBucket(Math.max(...chunk.map((s) => s.ids.length))), cache: 0 }
      const rows = leftPadRows(chunk.map((s) => s.ids), shape.length, runtime.padTokenId, 0)
      const targets = new BigInt64Array(shape.batch * shape.length).fill(BigInt(runtime.padTokenId))
      chunk.forEach((sequence, r) => {
        const padding = shape.length - sequence.ids.length
        // The logit at padded position j predicts the token at j + 1.
        for (let k = 1; k < sequence.ids.length; k++) targets[r * shape.length + padding + k - 1] = BigInt(sequence.ids[k]!)
      })
      const targetFeed: HostTensor = { dtype: "int64", shape: [shape.batch, shape.length], data: targets }
      const exe = yield* runtime.executable(shape, "target-logprobs", adapter?.lora)
      const out = yield* runtime.run(exe, {
        ...makeStepFeeds(runtime.config, runtime.frequencies, shape, rows, runtime.padTokenId),
        [stepNames.targets]: targetFeed,
        ...(adapter?.feeds ?? {})
      })
      const logprobs = (yield* runtime.backend.download(out.logprobs!)).data as Float32Array
      for (let r = 0; r < chunk.length; r++) {
        const sequence = chunk[r]!
        const padding = shape.length - sequence.ids.length
        const values = logprobs.slice(r * shape.length + padding + sequence.from - 1, r * shape.length + shape.length - 1)
        // -Inf is a legitimate log-probability only for a token the model rules out entirely; from finite logits it cannot occur.
        const problem = checkFinite("logprobs", start + r, values)
        if (problem) return yield* problem
        results.push(Array.from(values))
      }
    }
    return results
  })
