/**
 * The commit marker of a record stream (`.records.commit`): how many records and bytes of
 * `records.jsonl` are durable, and the SHA-256 of those bytes. Reopening a stream checks the
 * marker against the file, so an edited or damaged marker is refused instead of silently
 * skipping (or duplicating) records.
 */
import { createHash, type Hash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Json } from "../stage/context.ts"
import { RecordStreamError } from "../stage/errors.ts"
import { hashFileBytes } from "./hash.ts"

/** File name of the commit marker (hidden: bookkeeping, not part of the output hash). */
export const commitFileName = ".records.commit"

/** The durable extent of a record stream. */
export interface CommitMarker {
  readonly bytes: number
  readonly count: number
  /** Hex SHA-256 of the first `bytes` bytes; absent in markers written before it existed. */
  readonly sha256?: string
  /** The stage's `state` committed with these records (see `RecordWriter.append`). */
  readonly state?: Json
}

const redo = (stageDir: string) => `Delete the stage folder ${stageDir} and resume to redo the stage.`

/** Reads a stage folder's commit marker; an absent marker means nothing is committed. */
export const readCommitMarker = (stageDir: string): CommitMarker | RecordStreamError => {
  const file = path.join(stageDir, commitFileName)
  if (!fs.existsSync(file)) return { bytes: 0, count: 0 }
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as CommitMarker | null
    if (
      parsed !== null && typeof parsed === "object" &&
      Number.isSafeInteger(parsed.bytes) && parsed.bytes >= 0 &&
      Number.isSafeInteger(parsed.count) && parsed.count >= 0 &&
      (parsed.sha256 === undefined || (typeof parsed.sha256 === "string" && /^[0-9a-f]{64}$/.test(parsed.sha256)))
    ) return parsed
  } catch {
    // fall through: reported below
  }
  return new RecordStreamError({ path: file, message: `${file}: the commit marker is damaged. ${redo(stageDir)}` })
}

/**
 * Checks the committed prefix of `dataFile` against `marker`: exactly `count` newline-ended
 * records in the first `bytes` bytes, and the same SHA-256 when the marker has one. Returns
 * the running hash of the prefix (for the next checkpoints) or the refusal.
 */
export const verifyCommittedPrefix = (
  stageDir: string,
  dataFile: string,
  marker: CommitMarker
): Hash | RecordStreamError => {
  const hash = createHash("sha256")
  let lines = 0
  let last = 10
  if (marker.bytes > 0) {
    const fd = fs.openSync(dataFile, "r")
    try {
      hashFileBytes(hash, fd, 0, marker.bytes, (chunk) => {
        for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++
        last = chunk[chunk.length - 1]!
      })
    } finally {
      fs.closeSync(fd)
    }
  }
  const markerFile = path.join(stageDir, commitFileName)
  if (lines !== marker.count || last !== 10) {
    return new RecordStreamError({
      path: markerFile,
      message: `${markerFile} claims ${marker.count} records in the first ${marker.bytes} bytes of ${dataFile}, ` +
        `but they hold ${lines} complete record${lines === 1 ? "" : "s"}${last !== 10 ? " and a partial one" : ""}: ` +
        `the marker or the file was edited or damaged. ${redo(stageDir)}`
    })
  }
  if (marker.sha256 !== undefined && hash.copy().digest("hex") !== marker.sha256) {
    return new RecordStreamError({
      path: markerFile,
      message: `the first ${marker.bytes} bytes of ${dataFile} do not match the checksum in ${markerFile}: ` +
        `committed records were changed after they were written. ${redo(stageDir)}`
    })
  }
  return hash
}
