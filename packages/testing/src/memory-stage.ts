/**
 * An in-memory `StageContext` for running a stage component in a unit test,
 * without the core runner: a record writer that keeps durable records in an
 * array (and can simulate a kill after k durable records), an event sink that
 * records every event, and a fresh temporary artifact folder.
 *
 * @example
 * ```ts
 * import { memoryStageContext, runStage } from "@refine-af/testing"
 * const { ctx, output } = memoryStageContext({ options: { count: 3 }, uses: {} })
 * // await runStage(myStage, ctx); output.committed holds the records
 * ```
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect, Stream } from "effect"
import { RecordStreamError, type EventSink, type Json, type JsonRecord, type RecordWriter, type StageContext, type StageInput } from "@refine-af/core"

export interface RecordedEvent {
  readonly type: string
  readonly data: JsonRecord
}

export interface MemoryWriter extends RecordWriter {
  /** Durable records, the resumed ones first. */
  readonly committed: Array<JsonRecord>
  /** The `state` committed with the last durable append (what a resumed attempt reads as `resumedState`). */
  readonly committedState: () => Json | undefined
}

export interface MemoryWriterOptions {
  /** Fail (like a killed process) once this many records are durable; what was not yet durable is lost. */
  readonly crashAfter?: number
  /** Make every appended record durable at once (a runner that commits per record). Default: durable at `checkpoint`. */
  readonly durableOnAppend?: boolean
  /** The state an earlier attempt committed (see `RecordWriter.append`). */
  readonly resumedState?: Json
}

/** A record writer that starts from `resumed` (records an earlier attempt made durable). */
export const memoryWriter = (resumed: ReadonlyArray<JsonRecord> = [], options: MemoryWriterOptions = {}): MemoryWriter => {
  const committed: Array<JsonRecord> = [...resumed]
  let pending: Array<JsonRecord> = []
  let state = options.resumedState
  let pendingState = state
  const crashed = () => options.crashAfter !== undefined && committed.length >= options.crashAfter
  const crash = () => new RecordStreamError({ path: "memory", message: "simulated crash" })
  // The state is committed only once every record appended with it is.
  const commit = (records: ReadonlyArray<JsonRecord>, withState: Json | undefined) =>
    Effect.gen(function* () {
      for (const record of records) {
        if (crashed()) return yield* crash()
        committed.push(record)
      }
      if (crashed()) return yield* crash()
      state = withState
    })
  return {
    committed,
    committedState: () => state,
    resumedCount: resumed.length,
    ...(options.resumedState === undefined ? {} : { resumedState: options.resumedState }),
    resumed: () => Effect.succeed([...resumed]),
    append: (records, appendOptions) => {
      if (appendOptions?.state !== undefined) pendingState = appendOptions.state
      if (options.durableOnAppend) return commit(records, pendingState)
      pending.push(...records)
      return Effect.void
    },
    checkpoint: () =>
      Effect.suspend(() => {
        const toCommit = pending
        pending = []
        return commit(toCommit, pendingState)
      })
  }
}

/** An event sink that keeps every event in `events`. */
export const memoryEvents = (): EventSink & { readonly events: Array<RecordedEvent> } => {
  const events: Array<RecordedEvent> = []
  const push = (type: string, data: JsonRecord) => Effect.sync(() => void events.push({ type, data }))
  return {
    events,
    progress: (done, total, budget) => push("progress", { done, total: total ?? null, ...(budget === undefined ? {} : { step: budget.step, steps: budget.steps }) }),
    metric: (name, value, step) => push("metric", { name, value, step: step ?? null }),
    warn: (message) => push("warn", { message }),
    emit: push
  }
}

/** A finished upstream stage holding `records`. */
export const memoryInput = (stage: string, records: ReadonlyArray<JsonRecord>, dir = tmpdir()): StageInput => ({
  stage,
  hash: `memory-${stage}`,
  dir,
  count: records.length,
  records: () => Stream.fromIterable(records),
  readAll: () => Effect.succeed(records)
})

export interface MemoryStageFields<O, U> {
  readonly options: O
  readonly uses: U
  readonly name?: string
  readonly seed?: number
  readonly inputs?: Record<string, StageInput>
  /** Upstream outputs of list ports (`StageContext.inputLists`), in order. */
  readonly inputLists?: Record<string, ReadonlyArray<StageInput>>
  readonly output?: MemoryWriter
  /** Artifact folder; a fresh temporary folder when omitted. */
  readonly dir?: string
  /** Trainer state folder (`StageContext.stateDir`); a fresh temporary folder when omitted. Pass the same one again to simulate a resume. */
  readonly stateDir?: string
  /** Folder that relative paths in options resolve from (as a recipe's folder would); the cwd when omitted. */
  readonly recipeDir?: string
}

export interface MemoryStage<O, U> {
  readonly ctx: StageContext<O, U>
  readonly output: MemoryWriter
  readonly events: Array<RecordedEvent>
}

/** A complete in-memory stage context. */
export const memoryStageContext = <O, U>(fields: MemoryStageFields<O, U>): MemoryStage<O, U> => {
  const output = fields.output ?? memoryWriter()
  const sink = memoryEvents()
  const name = fields.name ?? "test-stage"
  const ctx: StageContext<O, U> = {
    name,
    options: fields.options,
    seed: fields.seed ?? 1234,
    inputs: fields.inputs ?? {},
    inputLists: fields.inputLists ?? {},
    uses: fields.uses,
    output,
    dir: fields.dir ?? mkdtempSync(path.join(tmpdir(), `refine-af-${name}-`)),
    stateDir: fields.stateDir ?? mkdtempSync(path.join(tmpdir(), `refine-af-${name}-state-`)),
    events: sink,
    ...(fields.recipeDir === undefined ? {} : { recipeDir: fields.recipeDir })
  }
  return { ctx, output, events: sink.events }
}
