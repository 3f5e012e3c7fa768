/**
 * The crash-safe `RecordWriter`: append-only JSONL plus a commit marker.
 *
 * Appends are buffered in memory. A checkpoint writes the buffer, fsyncs the
 * data file, then atomically replaces the commit marker (`.records.commit`,
 * `{ bytes, count, sha256, state? }`) and fsyncs the folder; the stage's `state` given with
 * an append is committed in the same marker as that append's records. Bytes past the marker are never
 * trusted: opening the writer again truncates the data file back to the marker,
 * so a torn or uncommitted tail left by `kill -9` disappears and the stage
 * continues from `resumedCount`.
 */
import { Effect } from "effect"
import type { Hash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Json, JsonRecord, RecordWriter } from "../stage/context.ts"
import { RecordStreamError } from "../stage/errors.ts"
import { writeFileAtomic } from "./fs-atomic.ts"
import { type CommitMarker, commitFileName, readCommitMarker, verifyCommittedPrefix } from "./commit-marker.ts"
import { readAllRecords } from "./record-reader.ts"

export { type CommitMarker, commitFileName, readCommitMarker } from "./commit-marker.ts"

/** File name of a stage's record stream inside its folder. */
export const recordsFileName = "records.jsonl"
/** When to checkpoint automatically. */
export interface CheckpointPolicy {
  /** After this many appended records (default 1000). */
  readonly everyRecords?: number
  /** After this many milliseconds since the last checkpoint, checked on append (default 1000). */
  readonly everyMs?: number
}

/** A `RecordWriter` bound to an open file; `close` checkpoints and releases it. */
export interface OpenRecordWriter extends RecordWriter {
  /** Records appended so far (durable or not). */
  readonly count: () => number
  readonly close: () => Effect.Effect<void, RecordStreamError>
}

const fail = (file: string, message: string) => new RecordStreamError({ path: file, message })

/**
 * Opens (or reopens after a crash) the record stream of a stage folder.
 * Uncommitted bytes are truncated away; `resumedCount` is the committed count.
 */
export const openRecordWriter = (
  stageDir: string,
  policy: CheckpointPolicy = {}
): Effect.Effect<OpenRecordWriter, RecordStreamError> =>
  Effect.suspend(() => {
    const dataFile = path.join(stageDir, recordsFileName)
    const commitFile = path.join(stageDir, commitFileName)
    const everyRecords = policy.everyRecords ?? 1000
    const everyMs = policy.everyMs ?? 1000
    let fd: number
    let committed: CommitMarker
    let committedHash: Hash
    try {
      fs.mkdirSync(stageDir, { recursive: true })
      const marker = readCommitMarker(stageDir)
      if (marker instanceof RecordStreamError) return Effect.fail(marker)
      const size = fs.existsSync(dataFile) ? fs.statSync(dataFile).size : 0
      if (size < marker.bytes) {
        return Effect.fail(fail(
          dataFile,
          `${dataFile} is shorter (${size} bytes) than its commit marker says (${marker.bytes}); committed records were lost. ` +
            `Delete ${stageDir} and resume to redo the stage.`
        ))
      }
      const verified = verifyCommittedPrefix(stageDir, dataFile, marker)
      if (verified instanceof RecordStreamError) return Effect.fail(verified)
      committedHash = verified
      fd = fs.openSync(dataFile, fs.existsSync(dataFile) ? "r+" : "w+")
      fs.ftruncateSync(fd, marker.bytes)
      committed = marker
    } catch (cause) {
      return Effect.fail(fail(dataFile, `cannot open ${dataFile}: ${String(cause)}`))
    }

    const resumedCount = committed.count
    const resumedBytes = committed.bytes
    let pending: Array<string> = []
    let appended = committed.count
    let lastCheckpoint = Date.now()
    let closed = false
    let state: Json | undefined = committed.state
    let stateChanged = false

    const checkpointNow = (): RecordStreamError | undefined => {
      if (pending.length === 0 && committed.count === appended && !stateChanged && fs.existsSync(commitFile)) return undefined
      try {
        const bytes = Buffer.from(pending.join(""))
        if (bytes.length > 0) fs.writeSync(fd, bytes, 0, bytes.length, committed.bytes)
        fs.fsyncSync(fd)
        const hash = committedHash.copy().update(bytes)
        const next: CommitMarker = { bytes: committed.bytes + bytes.length, count: appended, sha256: hash.copy().digest("hex"), ...(state === undefined ? {} : { state }) }
        writeFileAtomic(commitFile, JSON.stringify(next))
        committed = next
        committedHash = hash
        pending = []
        stateChanged = false
        lastCheckpoint = Date.now()
        return undefined
      } catch (cause) {
        return fail(dataFile, `cannot write ${dataFile}: ${String(cause)}`)
      }
    }

    const checkpoint = () =>
      Effect.suspend(() => {
        if (closed) return Effect.void
        const error = checkpointNow()
        return error ? Effect.fail(error) : Effect.void
      })

    const append = (records: ReadonlyArray<JsonRecord>, options?: { readonly state?: Json }) =>
      Effect.suspend(() => {
        if (closed) return Effect.fail(fail(dataFile, `${dataFile}: append after the stage finished (a stage must not write after its run returns)`))
        for (const record of records) {
          let line: string | undefined
          try {
            line = JSON.stringify(record)
          } catch (cause) {
            return Effect.fail(fail(dataFile, `record ${appended} cannot be written as JSON: ${String(cause)}`))
          }
          if (line === undefined || line[0] !== "{") {
            return Effect.fail(fail(dataFile, `record ${appended} is not a JSON object; stages must append plain objects`))
          }
          pending.push(line + "\n")
          appended++
        }
        // Set after every record is buffered: any checkpoint from here on commits all of them with it.
        if (options?.state !== undefined) {
          state = options.state
          stateChanged = true
        }
        if (appended - committed.count >= everyRecords || Date.now() - lastCheckpoint >= everyMs) return checkpoint()
        return Effect.void
      })

    const close = () =>
      Effect.suspend(() => {
        if (closed) return Effect.void
        const error = checkpointNow()
        closed = true
        try {
          fs.closeSync(fd)
        } catch {
          // already closed
        }
        return error ? Effect.fail(error) : Effect.void
      })

    const writer: OpenRecordWriter = {
      resumedCount,
      ...(committed.state === undefined ? {} : { resumedState: committed.state }),
      resumed: () => readAllRecords(dataFile, { byteLength: resumedBytes }),
      append,
      checkpoint,
      count: () => appended,
      close
    }
    return Effect.succeed(writer)
  })
