/**
 * Checking the pre-packed store's bytes against the checksums its index
 * records (SHA-256 of each entry's codes copy and blobs, computed from the
 * bytes as they were appended), once per change of the store file.
 *
 * onnxruntime compares a blob's key with the hash of what it pre-packs from
 * the codes it is given, and then maps the blob without reading it: a blob
 * damaged in place is used as it is, and damaged codes are pre-packed as they
 * are; either computes something else, silently. Reading every entry at every
 * session would cost a read of GBs per load (at 7B), so after a check
 * `prepacked-<signature>.verified` records the store file's version (size,
 * inode, modification and change times in ns) and the entries found good
 * (key → checksum): while the file has that version they are trusted. The
 * store is append-only, so only appends change it legitimately; a maker that
 * appended stamps what it verified before plus what it wrote. Any other write
 * changes the modification time (resetting it changes the change time), so
 * every entry is read again. Not seen: bytes that rot with no write through
 * the file system.
 */
import { readFileSync } from "node:fs"
import { fileVersion, sameFileVersion, writeFileAtomic, type FileVersion } from "@refine-af/core"
import { checksumOfRanges, entryRanges, type CheckedEntry } from "./prepacked-checksum.ts"

/** A file's version: what any write through the file system changes. */
export type StoreVersion = FileVersion

interface Stamp extends StoreVersion {
  readonly entries: Readonly<Record<string, string>>
}

/** What {@link verifyEntries} found. */
export interface Verification {
  /** Entries whose bytes match their checksum (key → checksum). */
  readonly good: Readonly<Record<string, string>>
  /** Entries whose bytes do not match, or that record no checksum to match. */
  readonly damaged: ReadonlyArray<string>
  /** The store file's version the good entries were found under (undefined: no file). */
  readonly version: StoreVersion | undefined
}

/** The version of the file at `path` now; undefined when there is none. */
export const versionOf = fileVersion

export const sameVersion = sameFileVersion

const readStamp = (path: string): Stamp | undefined => {
  try {
    const stamp = JSON.parse(readFileSync(path, "utf8")) as Stamp
    return typeof stamp.entries === "object" && stamp.entries !== null ? stamp : undefined
  } catch {
    return undefined
  }
}

/**
 * Records that the entries `good` of the store file `bin` were found (or written) good while it had `version`; written
 * to a temporary name, synced and renamed, and only while the file still has that version (a stamp never vouches for
 * bytes it did not see). A stamp that cannot be written is left out: the entries are read again next time.
 */
export const writeStamp = (stampPath: string, bin: string, version: StoreVersion | undefined, good: Readonly<Record<string, string>>): void => {
  if (version === undefined || !sameVersion(version, versionOf(bin))) return
  try {
    writeFileAtomic(stampPath, JSON.stringify({ ...version, entries: good } satisfies Stamp))
  } catch {
    // Left out: the entries are read again next time.
  }
}

/**
 * Checks `entries` of the store file `bin`: those the stamp at `stampPath` vouches for under the file's current
 * version are trusted, the others read and compared with their checksums; the good ones are stamped.
 */
export const verifyEntries = (bin: string, stampPath: string, entries: Readonly<Record<string, CheckedEntry>>): Verification => {
  const version = versionOf(bin)
  const stamp = readStamp(stampPath)
  const vouched = stamp !== undefined && sameVersion(stamp, version) ? stamp.entries : {}
  const good: Record<string, string> = {}
  const damaged: Array<string> = []
  let read = false
  for (const [key, entry] of Object.entries(entries)) {
    if (entry.sha256 !== undefined && vouched[key] === entry.sha256) good[key] = entry.sha256
    else if (entry.sha256 !== undefined && version !== undefined && checksumOfRanges(bin, entryRanges(entry)) === entry.sha256) {
      good[key] = entry.sha256
      read = true
    } else damaged.push(key)
  }
  // Entries the stamp vouches for that were not asked about stay vouched for.
  if (read) writeStamp(stampPath, bin, version, { ...vouched, ...good })
  return { good: { ...vouched, ...good }, damaged, version }
}
