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

/** Names our atomic writers give their temporary files: `<file>.tmp`, `<file>.<pid>.tmp`, `<file>.tmp-<pid>`. */
const tempName = /\.tmp(-\d+)?$/

/**
 * Removes the temporary files that atomic writes leave when the process is killed mid-write
 * (`<file>.<pid>.tmp`, `<file>.tmp-<pid>`, …) anywhere under `folder`; returns how many went. Only
 * for a folder no other process writes (a stage's folders, under the run lock).
 */
export const removeStaleTemps = (folder: string): number => {
  let removed = 0
  const visit = (at: string) => {
    let entries: Array<fs.Dirent> = []
    try {
      entries = fs.readdirSync(at, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const full = path.join(at, entry.name)
      if (entry.isDirectory()) visit(full)
      else if (entry.isFile() && tempName.test(entry.name)) {
        fs.rmSync(full, { force: true })
        removed++
      }
    }
  }
  visit(folder)
  return removed
}
