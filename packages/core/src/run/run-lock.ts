/**
 * One process at a time per run directory: `.lock` holds the owner's pid and
 * host. A lock left by a dead process of this host (kill -9) is taken over; a
 * live owner, or any owner on another host (shared file systems), makes a
 * second `run`/`resume` fail instead of interleaving writes.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const lockFileName = ".lock"

/** Who holds a run lock. */
export interface LockOwner {
  readonly pid: number
  readonly hostname: string
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * Takes the lock of `runDir`. Returns a release function, or the owner that
 * holds it when another live process on this host is using the run.
 */
export const acquireRunLock = (runDir: string): (() => void) | LockOwner => {
  const file = path.join(runDir, lockFileName)
  const me: LockOwner = { pid: process.pid, hostname: os.hostname() }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: "wx" })
      return () => fs.rmSync(file, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
    }
    let owner: LockOwner | undefined
    try {
      owner = JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner
    } catch {
      owner = undefined // torn lock file: its writer died mid-write
    }
    // Another host's process cannot be checked from here: respect its lock (the fix says how to clear it).
    if (owner !== undefined && owner.hostname !== me.hostname) return owner
    if (owner !== undefined && owner.pid !== me.pid && isAlive(owner.pid)) return owner
    fs.rmSync(file, { force: true })
  }
  throw new Error(`could not take the lock ${file}`)
}
