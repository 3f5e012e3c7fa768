/**
 * An in-memory StageContext for running stage components in tests: a record
 * writer that keeps committed records only (and can simulate a crash after k
 * durable records), and an event sink that records everything.
 */
import { Effect, Stream } from "effect"
import { RecordStreamError, type EventSink, type JsonRecord, type RecordWriter, type StageContext, type StageInput } from "@refine-af/core"

export interface RecordedEvent {
  readonly type: string
  readonly data: JsonRecord
}

export interface MemoryWriter extends RecordWriter {
  /** Durable records, including the resumed ones. */
  readonly committed: Array<JsonRecord>
}

/**
 * A writer whose records become durable at `checkpoint`, or at `append` when
 * `durableOnAppend` (a runner that flushes every record). With `crashAfter`,
 * the writer fails once that many records are durable, like a killed process:
 * anything not yet durable is lost.
 */
export const memoryWriter = (
  resumed: ReadonlyArray<JsonRecord> = [],
  options: { readonly crashAfter?: number; readonly durableOnAppend?: boolean } = {}
): MemoryWriter => {
  const committed: Array<JsonRecord> = [...resumed]
  let pending: Array<JsonRecord> = []
  const crash = () => new RecordStreamError({ path: "memory", message: "simulated crash" })
  const crashed = () => options.crashAfter !== undefined && committed.length >= options.crashAfter
  const commit = (records: ReadonlyArray<JsonRecord>) =>
    Effect.gen(function* () {
      for (const record of records) {
        if (crashed()) return yield* crash()
        committed.push(record)
      }
      if (crashed()) return yield* crash()
    })
  return {
    committed,
    resumedCount: resumed.length,
    resumed: () => Effect.succeed([...resumed]),
    append: (records) => {
      if (options.durableOnAppend) return commit(records)
      pending.push(...records)
      return Effect.void
    },
    checkpoint: () =>
      Effect.suspend(() => {
        const toCommit = pending
        pending = []
        return commit(toCommit)
      })
  }
}

export const memoryEvents = (): EventSink & { readonly events: Array<RecordedEvent> } => {
  const events: Array<RecordedEvent> = []
  return {
    events,
    progress: (done, total) => Effect.sync(() => void events.push({ type: "progress", data: { done, total: total ?? null } })),
    metric: (name, value, step) => Effect.sync(() => void events.push({ type: "metric", data: { name, value, step: step ?? null } })),
    warn: (message) => Effect.sync(() => void events.push({ type: "warn", data: { message } })),
    emit: (type, data) => Effect.sync(() => void events.push({ type, data }))
  }
}

/** An upstream stage output holding `records`. */
export const memoryInput = (stage: string, records: ReadonlyArray<JsonRecord>): StageInput => ({
  stage,
  hash: `memory-${stage}`,
  dir: "/nonexistent",
  count: records.length,
  records: () => Stream.fromIterable(records),
  readAll: () => Effect.succeed(records)
})

export const memoryContext = <O, U>(fields: {
  readonly options: O
  readonly uses: U
  readonly seed?: number
  readonly output?: MemoryWriter
  readonly inputs?: Record<string, StageInput>
  readonly name?: string
}) => {
  const output = fields.output ?? memoryWriter()
  const events = memoryEvents()
  const ctx: StageContext<O, U> = {
    name: fields.name ?? "test-stage",
    options: fields.options,
    seed: fields.seed ?? 1234,
    inputs: fields.inputs ?? {},
    uses: fields.uses,
    output,
    dir: "/nonexistent",
    events
  }
  return { ctx, output, events: events.events }
}
