/**
 * Verifying a large derived file once per change, not once per load: after a
 * file's content matched its recorded checksum, `<file>.verified` records the
 * file's version then (size, inode, modification and change times in
 * nanoseconds) and that checksum; a later load whose file has that version
 * and records that checksum trusts it without reading it. Any write changes
 * the modification time (and resetting that changes the change time), a
 * replacement changes the inode, so a changed file is read in full again.
 * What a stamp cannot see: bytes that rot on disk with no write through the
 * file system (no time changes); the stamp is an optimisation over a check
 * that would otherwise read GBs on every load, not a guarantee against that.
 */
import { closeSync, fsyncSync, openSync, readFileSync, rmSync } from "node:fs"
import { fileVersion as versionOf, sameFileVersion as sameVersion, writeFileAtomic, type FileVersion } from "@refine-af/core"
import type { SafetensorsHeader } from "@refine-af/models"
import { checksumOfFile } from "./content-checksum.ts"

interface Stamp extends FileVersion {
  readonly sha256: string
}

/** The stamp file of `path`. */
export const stampOf = (path: string): string => `${path}.verified`

const readStamp = (path: string): Stamp | undefined => {
  try {
    return JSON.parse(readFileSync(stampOf(path), "utf8")) as Stamp
  } catch {
    return undefined
  }
}

// Written to a temporary name, synced and renamed: a crash never leaves a half stamp, and the file it vouches for is
// synced first (its bytes were read from the page cache; a stamp must not outlive them).
const writeStamp = (path: string, stamp: Stamp): void => {
  const file = openSync(path, "r")
  try {
    fsyncSync(file)
  } finally {
    closeSync(file)
  }
  writeFileAtomic(stampOf(path), JSON.stringify(stamp))
}

/** Removes the stamp of `path` (a file about to be replaced, or found damaged). */
export const removeStamp = (path: string): void => rmSync(stampOf(path), { force: true })

/**
 * Whether the safetensors file at `path` (its validated `header`) holds what was written: its content checksum is
 * `expected`. Read in full only when the file changed since a stamp last vouched for it with that checksum; a match
 * stamps it (unless the file changed while it was read), a mismatch removes the stamp.
 */
export const verifiedOnce = (path: string, header: SafetensorsHeader, expected: string): boolean => {
  const before = versionOf(path)
  if (before === undefined) return false
  const stamp = readStamp(path)
  if (stamp !== undefined && stamp.sha256 === expected && sameVersion(stamp, before)) return true
  if (checksumOfFile(path, header) !== expected) {
    removeStamp(path)
    return false
  }
  const after = versionOf(path)
  try {
    if (after !== undefined && sameVersion(before, after)) writeStamp(path, { ...after, sha256: expected })
  } catch {
    // A read-only cache folder: the file is verified again at the next load.
  }
  return true
}
