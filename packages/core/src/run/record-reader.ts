/**
 * Lazy reading of a JSONL record stream. A finished record file ends with a
 * newline after every record; anything else (a line that is not a JSON object,
 * a missing final newline) is corruption, reported with file:line.
 */
import { Effect, Option, Stream } from "effect"
import * as fs from "node:fs"
import type { JsonRecord } from "../stage/context.ts"
import { RecordStreamError } from "../stage/errors.ts"

const chunkBytes = 1 << 20

interface ReadState {
  readonly offset: number
  readonly line: number
  readonly carry: Buffer
}

const parseLine = (file: string, lineNumber: number, text: string): JsonRecord | RecordStreamError => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    return new RecordStreamError({
      path: file,
      message: `${file}:${lineNumber}: corrupt record (${cause instanceof Error ? cause.message : String(cause)}). ` +
        "The file was edited or damaged; re-run the stage that wrote it (delete its folder and resume, or run again with --no-cache)."
    })
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return new RecordStreamError({
      path: file,
      message: `${file}:${lineNumber}: a record must be a JSON object. Re-run the stage that wrote it.`
    })
  }
  return value as JsonRecord
}

const readPage = (file: string, byteLength: number | undefined) => (state: ReadState) =>
  Effect.suspend((): Effect.Effect<readonly [ReadonlyArray<JsonRecord>, Option.Option<ReadState>], RecordStreamError> => {
    const limit = byteLength ?? Number.POSITIVE_INFINITY
    const wanted = Math.min(chunkBytes, limit - state.offset)
    let chunk: Buffer = Buffer.alloc(0)
    if (wanted > 0) {
      try {
        const fd = fs.openSync(file, "r")
        try {
          const buffer = Buffer.allocUnsafe(wanted)
          const read = fs.readSync(fd, buffer, 0, wanted, state.offset)
          chunk = buffer.subarray(0, read)
        } finally {
          fs.closeSync(fd)
        }
      } catch (cause) {
        return Effect.fail(new RecordStreamError({ path: file, message: `cannot read ${file}: ${String(cause)}` }))
      }
    }
    const data = state.carry.length === 0 ? chunk : Buffer.concat([state.carry, chunk])
    if (chunk.length === 0) {
      if (data.length > 0) {
        return Effect.fail(new RecordStreamError({
          path: file,
          message: `${file}:${state.line}: the last record is incomplete (no final newline). Re-run the stage that wrote it.`
        }))
      }
      return Effect.succeed([[], Option.none()] as const)
    }
    const lastNewline = data.lastIndexOf(10)
    const complete = lastNewline < 0 ? "" : data.toString("utf8", 0, lastNewline)
    const records: Array<JsonRecord> = []
    let line = state.line
    if (lastNewline >= 0) {
      for (const text of complete.split("\n")) {
        const parsed = parseLine(file, line, text)
        if (parsed instanceof RecordStreamError) return Effect.fail(parsed)
        records.push(parsed)
        line++
      }
    }
    const next: ReadState = {
      offset: state.offset + chunk.length,
      line,
      carry: Buffer.from(data.subarray(lastNewline + 1))
    }
    return Effect.succeed([records, Option.some(next)] as const)
  })

/**
 * Streams the records of a JSONL file lazily (1 MiB at a time), optionally only
 * its first `byteLength` bytes (the committed part of a stream being written).
 */
export const streamRecords = (
  file: string,
  options?: { readonly byteLength?: number }
): Stream.Stream<JsonRecord, RecordStreamError> =>
  Stream.paginate({ offset: 0, line: 1, carry: Buffer.alloc(0) } as ReadState, readPage(file, options?.byteLength))

/** Reads every record of a JSONL file at once (small files only). */
export const readAllRecords = (
  file: string,
  options?: { readonly byteLength?: number }
): Effect.Effect<Array<JsonRecord>, RecordStreamError> => Stream.runCollect(streamRecords(file, options))
