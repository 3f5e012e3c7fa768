/**
 * `StageInput` over a finished upstream stage folder: records are read lazily
 * from its `records.jsonl`.
 */
import * as path from "node:path"
import type { StageInput } from "../stage/context.ts"
import { readAllRecords, streamRecords } from "./record-reader.ts"
import { recordsFileName } from "./record-writer.ts"

/** The finished output of a stage, as the runner tracks it. */
export interface StageOutput {
  readonly stage: string
  readonly dir: string
  readonly hash: string
  readonly count: number
}

/** A `StageInput` reading the given finished stage output. */
export const stageInputOf = (output: StageOutput): StageInput => {
  const file = path.join(output.dir, recordsFileName)
  return {
    stage: output.stage,
    hash: output.hash,
    dir: output.dir,
    count: output.count,
    records: () => streamRecords(file),
    readAll: () => readAllRecords(file)
  }
}
