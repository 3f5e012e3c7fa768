/**
 * An in-memory `RecordWriter` with the commit semantics of the core's crash-safe writer
 * (`openRecordWriter`, packages/core/src/run/record-writer.ts): a **commit** — one
 * `checkpoint()`, or one `append` when `durableOnAppend` — makes its records and the `state`
 * last given to `append` durable together, as one commit marker does. A resumed attempt reads
 * the records and state of the last commit (`resumed()`, `resumedState`).
 *
 * `crashAfter: k` simulates `kill -9` once at least k records are durable: the commit that
 * reaches k lands whole (all its records and its state, possibly more than k records) and then
 * fails with a `RecordStreamError`, as if the process died right after writing that marker;
 * every later append, checkpoint and commit fails without landing, and whatever was appended
 * but not committed is lost. So `committed` and `committedState()` after a kill are exactly
 * what a resumed attempt of the real runner would find.
 *
 * @example
 * ```ts
 * import { memoryWriter } from "@refine-af/testing"
 * const killed = memoryWriter([], { crashAfter: 3, durableOnAppend: true })
 * // ... run the stage with it (it fails), then resume from what it left:
 * const resumed = memoryWriter(killed.committed, { resumedState: killed.committedState() })
 * ```
 */
import { Effect } from "effect"
import { RecordStreamError, type Json, type JsonRecord, type RecordWriter } from "@refine-af/core"

export interface MemoryWriter extends RecordWriter {
  /** Durable records, the resumed ones first. */
  readonly committed: Array<JsonRecord>
  /** The `state` of the last commit (what a resumed attempt reads as `resumedState`). */
  readonly committedState: () => Json | undefined
  /** True once the simulated kill (`crashAfter`) has happened. */
  readonly killed: () => boolean
}

export interface MemoryWriterOptions {
  /** Simulate `kill -9` right after the commit that makes at least this many records durable (see the module comment). */
  readonly crashAfter?: number
  /**
   * Commit at every append (the core's writer may commit at any append: every 1000 records or
   * every second). Default: commit at `checkpoint()` and, through `runStage`, when the stage ends.
   */
  readonly durableOnAppend?: boolean
  /** The state an earlier attempt committed (see `RecordWriter.append`); undefined: none. */
  readonly resumedState?: Json | undefined
}

/** A record writer that starts from `resumed` (records an earlier attempt made durable). */
export const memoryWriter = (resumed: ReadonlyArray<JsonRecord> = [], options: MemoryWriterOptions = {}): MemoryWriter => {
  const committed: Array<JsonRecord> = [...resumed]
  let pending: Array<JsonRecord> = []
  let state = options.resumedState
  let pendingState = state
  let killed = false
  const reached = () => options.crashAfter !== undefined && committed.length >= options.crashAfter
  const kill = () => {
    killed = true
    return Effect.fail(new RecordStreamError({ path: "memory", message: `simulated kill after ${committed.length} durable records (crashAfter: ${options.crashAfter})` }))
  }
  // One commit marker: its records and its state land together, or nothing does.
  const commit = (records: ReadonlyArray<JsonRecord>, withState: Json | undefined) =>
    Effect.suspend(() => {
      if (killed || reached()) return kill()
      committed.push(...records)
      state = withState
      return reached() ? kill() : Effect.void
    })
  return {
    committed,
    committedState: () => state,
    killed: () => killed,
    resumedCount: resumed.length,
    ...(options.resumedState === undefined ? {} : { resumedState: options.resumedState }),
    resumed: () => Effect.succeed([...resumed]),
    append: (records, appendOptions) =>
      Effect.suspend(() => {
        if (killed) return kill()
        if (appendOptions?.state !== undefined) pendingState = appendOptions.state
        if (options.durableOnAppend) return commit(records, pendingState)
        pending.push(...records)
        return Effect.void
      }),
    checkpoint: () =>
      Effect.suspend(() => {
        const toCommit = pending
        pending = []
        return commit(toCommit, pendingState)
      })
  }
}
