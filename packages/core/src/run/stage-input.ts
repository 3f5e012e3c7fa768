/**
 * `StageInput` over a finished upstream stage folder: records are read lazily
 * from its `records.jsonl`.
 */
import { Effect, Result, Schema, Stream } from "effect"
import * as path from "node:path"
import type { JsonRecord, StageInput } from "../stage/context.ts"
import { RecordStreamError } from "../stage/errors.ts"
import { readAllRecords, streamRecords } from "./record-reader.ts"
import { recordsFileName } from "./record-writer.ts"

/** The finished output of a stage, as the runner tracks it. */
export interface StageOutput {
  readonly stage: string
  readonly dir: string
  readonly hash: string
  readonly count: number
}

/** Where a typed port reads: checked records name the reader in errors. */
export interface PortCheck {
  readonly schema: Schema.Top
  /** The reading stage (or resource) and port, for errors. */
  readonly reader: string
  readonly port: string
}

const checkRecord = (check: PortCheck, output: StageOutput, file: string) => {
  const decode = Schema.decodeUnknownResult(check.schema as Schema.Codec<unknown, unknown>)
  return (record: JsonRecord, index: number): Effect.Effect<JsonRecord, RecordStreamError> => {
    const result = decode(record)
    if (Result.isSuccess(result)) return Effect.succeed(record)
    return Effect.fail(new RecordStreamError({
      path: file,
      message: `${check.reader}: input port "${check.port}": record ${index} of stage "${output.stage}" does not match the port's Schema: ${String(result.failure).replace(/\s+/g, " ")}`
    }))
  }
}

/** A `StageInput` reading the given finished stage output (each record checked when `check` is given). */
export const stageInputOf = (output: StageOutput, check?: PortCheck): StageInput => {
  const file = path.join(output.dir, recordsFileName)
  if (check === undefined) {
    return { stage: output.stage, hash: output.hash, dir: output.dir, count: output.count, records: () => streamRecords(file), readAll: () => readAllRecords(file) }
  }
  const checked = checkRecord(check, output, file)
  return {
    stage: output.stage,
    hash: output.hash,
    dir: output.dir,
    count: output.count,
    records: () => streamRecords(file).pipe(Stream.zipWithIndex, Stream.mapEffect(([record, index]) => checked(record, index))),
    readAll: () => Effect.flatMap(readAllRecords(file), (records) => Effect.forEach(records, (record, index) => checked(record, index)))
  }
}
