/**
 * An in-memory StageContext for calling `component.run(ctx)` directly: a
 * RecordWriter that keeps appended records in an array (optionally pretending
 * some records survived an interrupted attempt), an EventSink that records
 * events, and a temporary artifact folder.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import type { JsonRecord, StageContext, StageInput } from "@refine-af/core"

export interface MemoryStage<O, U> {
  readonly ctx: StageContext<O, U>
  /** Every record durable or appended (resumed ones first). */
  readonly records: Array<JsonRecord>
  readonly metrics: Array<{ name: string; value: number }>
  readonly progress: Array<{ done: number; total: number | undefined }>
  readonly warnings: Array<string>
}

export const makeMemoryStage = <O, U>(config: {
  readonly name: string
  readonly options: O
  readonly uses: U
  readonly seed?: number
  readonly inputs?: Record<string, StageInput>
  readonly inputLists?: Record<string, ReadonlyArray<StageInput>>
  readonly resumed?: ReadonlyArray<JsonRecord>
  /** Fail the append after this many records have been appended in this attempt (simulates a crash). */
  readonly crashAfter?: number
}): MemoryStage<O, U> => {
  const records: Array<JsonRecord> = [...(config.resumed ?? [])]
  const resumedCount = records.length
  const metrics: Array<{ name: string; value: number }> = []
  const progress: Array<{ done: number; total: number | undefined }> = []
  const warnings: Array<string> = []
  let appended = 0
  const ctx: StageContext<O, U> = {
    name: config.name,
    options: config.options,
    seed: config.seed ?? 1234,
    inputs: config.inputs ?? {},
    inputLists: config.inputLists ?? {},
    uses: config.uses,
    dir: mkdtempSync(path.join(tmpdir(), `superni-${config.name}-`)),
    stateDir: mkdtempSync(path.join(tmpdir(), `superni-${config.name}-state-`)),
    output: {
      resumedCount,
      resumed: () => Effect.succeed(records.slice(0, resumedCount)),
      append: (batch) =>
        Effect.suspend(() => {
          if (config.crashAfter !== undefined && appended + batch.length > config.crashAfter) {
            return Effect.die(new Error("simulated crash"))
          }
          appended += batch.length
          records.push(...batch)
          return Effect.void
        }),
      checkpoint: () => Effect.void
    },
    events: {
      progress: (done, total) => Effect.sync(() => void progress.push({ done, total })),
      metric: (name, value) => Effect.sync(() => void metrics.push({ name, value })),
      warn: (message) => Effect.sync(() => void warnings.push(message)),
      emit: () => Effect.void
    }
  }
  return { ctx, records, metrics, progress, warnings }
}

/** A finished upstream stage made from records in memory (the shared helper). */
export { memoryInput } from "@refine-af/testing"
