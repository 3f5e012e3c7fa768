/**
 * A file's version: what any write through the file system changes (size,
 * inode, modification and change times in nanoseconds). A stamp that vouches
 * for a file's content (a checksum read once) holds the version it was read
 * under, and is trusted only while the file still has it.
 *
 * @example
 * ```ts
 * import { fileVersion, sameFileVersion } from "@refine-af/core"
 * const before = fileVersion("weights.bin")
 * // ... read and check the file ...
 * sameFileVersion(before, fileVersion("weights.bin")) // false if it changed meanwhile, or is gone
 * ```
 */
import * as fs from "node:fs"

/** The fields of a file's version, as decimal strings (bigint stat values). */
export interface FileVersion {
  readonly size: string
  readonly ino: string
  readonly mtimeNs: string
  readonly ctimeNs: string
}

/** The version of the file at `path` now; undefined when there is none. */
export const fileVersion = (path: string): FileVersion | undefined => {
  try {
    const s = fs.statSync(path, { bigint: true })
    return { size: String(s.size), ino: String(s.ino), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) }
  } catch {
    return undefined
  }
}

/** Whether two versions are of the same file content (false when either is missing). */
export const sameFileVersion = (a: FileVersion | undefined, b: FileVersion | undefined): boolean =>
  a !== undefined && b !== undefined && a.size === b.size && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs
