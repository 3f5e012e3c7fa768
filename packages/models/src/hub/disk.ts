/**
 * Free space on the disk that holds a folder (the folder need not exist yet:
 * its nearest existing ancestor is asked), and the check a pull runs before
 * downloading anything.
 */
import { existsSync } from "node:fs"
import { statfs } from "node:fs/promises"
import * as nodePath from "node:path"
import { DiskTooSmall } from "./errors.ts"

/** Bytes available to this user on the disk of `dir`. */
export const freeBytes = async (dir: string): Promise<number> => {
  let probe = nodePath.resolve(dir)
  while (!existsSync(probe) && nodePath.dirname(probe) !== probe) probe = nodePath.dirname(probe)
  const info = await statfs(probe)
  return info.bavail * info.bsize
}

/** "1.5 GB" style sizes. */
export const formatBytes = (bytes: number): string => {
  const units = ["B", "KB", "MB", "GB", "TB"]
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

/** Fails with `DiskTooSmall` when `needed` bytes do not fit on the disk of `dir`. */
export const ensureRoom = async (dir: string, needed: number, free: (dir: string) => Promise<number> = freeBytes): Promise<void> => {
  const available = await free(dir)
  if (available < needed) {
    throw new DiskTooSmall({
      dir,
      needed,
      available,
      message: `not enough disk space in ${dir}: the download needs ${formatBytes(needed)}, ${formatBytes(available)} is free`,
      fix: "Free some space, or pull into a folder on a larger disk with --dir <folder>."
    })
  }
}
