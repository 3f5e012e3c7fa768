/**
 * Crash-safe small-file writes: write a temp file, fsync it, rename it over the
 * target, fsync the folder. After a crash the target holds either the old or
 * the new content, never a mix.
 */
import * as fs from "node:fs"
import * as path from "node:path"

/** Fsyncs a folder so that a rename inside it survives a power loss. */
export const fsyncDir = (dir: string): void => {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, "r")
    fs.fsyncSync(fd)
  } catch {
    // Some file systems refuse to fsync folders; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** Atomically replaces `file` with `content` (throws on I/O failure, leaving no temp file behind). */
export const writeFileAtomic = (file: string, content: string | Uint8Array, options?: { readonly sync?: boolean }): void => {
  const sync = options?.sync ?? true
  const temp = `${file}.${process.pid}.tmp`
  try {
    const fd = fs.openSync(temp, "w")
    try {
      fs.writeSync(fd, typeof content === "string" ? Buffer.from(content) : content)
      if (sync) fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temp, file)
  } catch (error) {
    fs.rmSync(temp, { force: true })
    throw error
  }
  if (sync) fsyncDir(path.dirname(file))
}
