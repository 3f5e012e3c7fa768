/**
 * Log-probabilities of given continuations: one forward per batch of
 * left-padded (prompt ++ continuation) sequences, with the per-position
 * target log-probabilities computed inside the program so only [batch, window]
 * numbers come back, not the logits — and only on the last `window` positions
 * (`windowBucket` of the longest continuation), where left padding puts every
 * continuation: a judge's one-token answer after a long question runs the LM
 * head on 16 positions, not on the whole question. Continuations of one prompt
 * in a batch (a judge's " Yes" and " No", candidate labels) run the prompt
 * through the decoder once where that saves a quarter of the positions
 * (`model/shared-prompt.ts`).
 */
import type { LanguageModelError } from "@refine-af/core"
import type { BackendError, HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import type { LlamaRuntime } from "../model/runtime.ts"
import { stepNames } from "@refine-af/models"
import { leftPadRows, makeStepFeeds } from "@refine-af/models"
import { batchBucket, lengthBucket, windowBucket, windowColumn } from "../generation/buckets.ts"
import { checkFinite } from "../generation/finite-check.ts"
import { sharedPromptBatch } from "../model/shared-prompt.ts"
import type { ActiveAdapter } from "../generation/generate.ts"

/** A sequence to score: its tokens and the index of the first token whose log-probability is wanted (≥ 1). */
export interface ScoredSequence {
  readonly ids: ReadonlyArray<number>
  readonly from: number
}

/** log p(ids[k] | ids[<k]) for k ≥ from, per sequence, in input order. */
export const scoreSequences = (runtime: LlamaRuntime, sequences: ReadonlyArray<ScoredSequence>, maxBatch: number, adapter?: ActiveAdapter, sharePrompts = true): Effect.Effect<Array<Array<number>>, BackendError | LanguageModelError> =>
  Effect.gen(function* () {
    const results: Array<Array<number>> = []
    for (let start = 0; start < sequences.length; start += maxBatch) {
      const chunk = sequences.slice(start, start + maxBatch)
      const length = lengthBucket(Math.max(...chunk.map((s) => s.ids.length)))
      // Continuations of one prompt (a judge's " Yes" and " No") run it once where that pays (model/shared-prompt.ts).
      const shared = sharePrompts ? sharedPromptBatch(runtime, chunk.map((s) => ({ tokens: s.ids, promptLength: s.from })), length) : undefined
      const window = shared?.part ?? windowBucket(Math.max(...chunk.map((s) => s.ids.length - s.from)), length)
      const shape = shared ? { batch: shared.batch, length: shared.part, cache: 0, window, prompts: shared.prompts } : { batch: batchBucket(chunk.length), length, cache: 0, window }
      const targets = new BigInt64Array(shape.batch * window).fill(BigInt(runtime.padTokenId))
      const column = (sequence: ScoredSequence, k: number) => (shared ? k - sequence.from : windowColumn(window, sequence.ids.length, k))
      chunk.forEach((sequence, r) => {
        for (let k = sequence.from; k < sequence.ids.length; k++) targets[r * window + column(sequence, k)] = BigInt(sequence.ids[k]!)
      })
      const targetFeed: HostTensor = { dtype: "int64", shape: [shape.batch, window], data: targets }
      const exe = yield* runtime.executable(shape, "target-logprobs", adapter?.lora)
      const trunkFeeds = shared?.feeds ?? makeStepFeeds(runtime.config, runtime.frequencies, shape, leftPadRows(chunk.map((s) => s.ids), shape.length, runtime.padTokenId, 0), runtime.padTokenId)
      const out = yield* runtime.run(exe, {
        ...trunkFeeds,
        [stepNames.targets]: targetFeed,
        ...(adapter?.feeds ?? {})
      })
      const logprobs = (yield* runtime.backend.download(out.logprobs!)).data as Float32Array
      for (let r = 0; r < chunk.length; r++) {
        const sequence = chunk[r]!
        const values = logprobs.slice(r * window + column(sequence, sequence.from), r * window + column(sequence, sequence.ids.length - 1) + 1)
        // -Inf is a legitimate log-probability only for a token the model rules out entirely; from finite logits it cannot occur.
        const problem = checkFinite("logprobs", start + r, values)
        if (problem) return yield* problem
        results.push(Array.from(values))
      }
    }
    return results
  })
