/**
 * One request queue and one decode loop per model: every `generate` call —
 * from any fiber, e.g. concurrent HTTP requests of `refine-af serve` — adds
 * its rows to the queue, and a single running loop takes them in at its splice
 * points, so concurrent calls share one continuous batch instead of decoding
 * one call at a time. A call completes when its own rows finish; interrupting
 * it drops its rows from the batch. A backend failure fails every call whose
 * rows were queued or decoding.
 *
 * @example
 * ```ts
 * import { makeDecodeScheduler } from "@refine-af/model-llama"
 * // const scheduler = makeDecodeScheduler(runtime, { tokenizer, eosIds, contextLength: 512, maxBatch: 8 })
 * // const generations = yield* scheduler.generate(tokenRequests)
 * ```
 */
import type { Generation, LanguageModelError } from "@refine-af/core"
import type { BackendError } from "@refine-af/tensor"
import { Effect, Exit } from "effect"
import type { LlamaRuntime } from "../model/runtime.ts"
import { generateTokens, makeRows, runQueue, type GenerateOptions, type RowQueue, type TokenRequest } from "./generate.ts"
import type { GenerationRow } from "./row.ts"

interface Submission {
  readonly rows: ReadonlyArray<GenerationRow>
  readonly resume: (effect: Effect.Effect<Array<Generation>, BackendError | LanguageModelError>) => void
}

/** The shared queue and loop. */
export interface DecodeScheduler {
  /** Generates for `requests` in the shared batch; results in request order. */
  readonly generate: (requests: ReadonlyArray<TokenRequest>) => Effect.Effect<Array<Generation>, BackendError | LanguageModelError>
  /** Rows waiting or decoding (for tests and metrics). */
  readonly pending: () => number
}

/** Makes the scheduler of one model (one adapter). */
export const makeDecodeScheduler = (runtime: LlamaRuntime, options: GenerateOptions): DecodeScheduler => {
  if (options.useCache === false) return { generate: (requests) => generateTokens(runtime, requests, options), pending: () => 0 }
  const maxBatch = options.maxBatch ?? 8
  const submissions = new Set<Submission>()
  let running = false

  const settleFinished = () => {
    for (const submission of submissions) {
      if (submission.rows.every((row) => row.finish !== null)) {
        submissions.delete(submission)
        submission.resume(Effect.succeed(submission.rows.map((row) => row.result())))
      }
    }
  }
  const queue: RowQueue = { waiting: [], afterStep: settleFinished }

  const loop: Effect.Effect<void> = Effect.suspend(() => runQueue(runtime, queue, options, maxBatch)).pipe(
    Effect.exit,
    Effect.map((exit) => {
      running = false
      if (Exit.isFailure(exit)) {
        // Every call in the queue or the batch shares the failure.
        queue.waiting.length = 0
        for (const submission of submissions) submission.resume(Effect.failCause(exit.cause))
        submissions.clear()
        return
      }
      settleFinished()
      if (queue.waiting.length > 0) start()
    })
  )
  const start = () => {
    if (running) return
    running = true
    Effect.runFork(loop)
  }

  const generate = (requests: ReadonlyArray<TokenRequest>) =>
    Effect.flatMap(makeRows(requests, options, runtime.config.vocabSize), (rows) =>
      Effect.callback<Array<Generation>, BackendError | LanguageModelError>((resume) => {
        const submission: Submission = { rows, resume }
        submissions.add(submission)
        queue.waiting.push(...rows.filter((row) => row.finish === null))
        settleFinished()
        start()
        return Effect.sync(() => {
          // Interrupted: the rows leave the batch at the next step.
          submissions.delete(submission)
          for (const row of rows) if (row.finish === null) row.finish = "stop"
        })
      }))

  return { generate, pending: () => queue.waiting.length + [...submissions].reduce((n, s) => n + s.rows.filter((r) => r.finish === null).length, 0) }
}
