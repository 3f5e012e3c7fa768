/**
 * An in-memory `StageContext` for running a stage component in a unit test,
 * without the core runner: a `memoryWriter` (durable records in an array, commits
 * like the core's writer, can simulate a kill after k durable records), an event
 * sink that records every event, and fresh temporary artifact and state folders.
 * `options` are written as in a recipe (defaults left out): `runStage` decodes
 * them with the stage's Schema, as a run does.
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
import type { EventSink, JsonRecord, StageContext, StageInput } from "@refine-af/core"
import { memoryWriter, type MemoryWriter } from "./memory-writer.ts"

export interface RecordedEvent {
  readonly type: string
  readonly data: JsonRecord
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

/**
 * A finished upstream stage holding `records`. Fed to a typed input port, `runStage` checks
 * each record against the port's Schema as the runner does.
 */
export const memoryInput = (stage: string, records: ReadonlyArray<JsonRecord>, dir = tmpdir()): StageInput => ({
  stage,
  hash: `memory-${stage}`,
  dir,
  count: records.length,
  records: () => Stream.fromIterable(records),
  readAll: () => Effect.succeed(records)
})

export interface MemoryStageFields<O, U> {
  /** Options as a recipe writes them (`runStage` decodes them with the stage's Schema, filling defaults). */
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
