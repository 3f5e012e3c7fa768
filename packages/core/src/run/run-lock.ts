/**
 * One process at a time per run directory: `.lock` holds the owner's pid and
 * host. A lock left by a dead process of this host (kill -9) is taken over; a
 * live owner, or any owner on another host (shared file systems), makes a
 * second `run`/`resume` fail instead of interleaving writes.
 *
 * Race-free under many concurrent `resume`s: the lock file appears complete
 * (written to a private temp file, then hard-linked into place, which fails if
 * a lock exists), and a stale lock is removed only by the holder of
 * `.lock.takeover`, after checking it is still the same stale lock, so no
 * process can delete a lock that another has just taken.
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

/**
 * Whether `/proc` says `pid` is a zombie: exited (a kill -9), not yet reaped by its parent. `kill(pid, 0)`
 * succeeds on one, and in a container whose init never reaps, it stays so. Undefined where there is no `/proc`.
 */
export const isZombie = (pid: number): boolean | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // "pid (comm) S ...": the state follows the last ")" (comm may hold spaces and parentheses).
    return stat.slice(stat.lastIndexOf(")") + 1).trim().startsWith("Z")
  } catch {
    return undefined
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false
  }
  return isZombie(pid) !== true
}

const code = (error: unknown) => (error as NodeJS.ErrnoException).code

/** Creates `file` holding `content` atomically; false when it already exists. */
const createComplete = (file: string, content: string): boolean => {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  fs.writeFileSync(temp, content)
  try {
    fs.linkSync(temp, file)
    return true
  } catch (error) {
    if (code(error) === "EEXIST") return false
    throw error
  } finally {
    fs.rmSync(temp, { force: true })
  }
}

/** The raw text of a file, `undefined` when it does not exist. */
const readText = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch (error) {
    if (code(error) === "ENOENT") return undefined
    throw error
  }
}

const parseOwner = (text: string): LockOwner | undefined => {
  try {
    const owner = JSON.parse(text) as LockOwner | null
    return owner !== null && typeof owner.pid === "number" && typeof owner.hostname === "string" ? owner : undefined
  } catch {
    return undefined // a torn lock file (written by a version that did not write atomically)
  }
}

/** Whether a lock's owner is gone: a dead process of this host, or an unreadable lock. */
const isStale = (owner: LockOwner | undefined, me: LockOwner) =>
  owner === undefined || (owner.hostname === me.hostname && (owner.pid === me.pid || !isAlive(owner.pid)))

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

/** Removes the stale lock whose text is `staleText`, if it is still there, holding `.lock.takeover`. */
const removeStale = (file: string, staleText: string, me: LockOwner): void => {
  const takeover = `${file}.takeover`
  if (!createComplete(takeover, JSON.stringify(me))) {
    // Someone else is taking over; a takeover lock left by a dead process is cleared.
    const holder = parseOwner(readText(takeover) ?? "")
    if (holder !== undefined && holder.pid !== me.pid && isStale(holder, me)) fs.rmSync(takeover, { force: true })
    return
  }
  try {
    if (readText(file) === staleText) fs.rmSync(file, { force: true })
  } finally {
    fs.rmSync(takeover, { force: true })
  }
}

/**
 * Takes the lock of `runDir`. Returns a release function, or the owner that
 * holds it when another live process on this host is using the run.
 */
export const acquireRunLock = (runDir: string): (() => void) | LockOwner => {
  const file = path.join(runDir, lockFileName)
  const me: LockOwner = { pid: process.pid, hostname: os.hostname() }
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createComplete(file, JSON.stringify(me))) return () => fs.rmSync(file, { force: true })
    const text = readText(file)
    if (text === undefined) continue // released between our attempt and our read: try again
    const owner = parseOwner(text)
    // Another host's process cannot be checked from here: respect its lock (the fix says how to clear it).
    if (!isStale(owner, me)) return owner!
    removeStale(file, text, me)
    if (attempt > 2) pause(Math.min(50, attempt))
  }
  throw new Error(`could not take the lock ${file}: it kept changing hands (200 attempts)`)
}

/**
 * Whether a run marked `running` in its manifest really has a live process: the owner of its
 * lock, if that owner is alive (or on another host, which cannot be checked from here).
 * `undefined` means nobody holds it: the process was killed (kill -9, power loss).
 */
export const liveRunHolder = (runDir: string): LockOwner | undefined => {
  const text = readText(path.join(runDir, lockFileName))
  if (text === undefined) return undefined
  const owner = parseOwner(text)
  const me: LockOwner = { pid: process.pid, hostname: os.hostname() }
  if (owner === undefined) return undefined
  if (owner.hostname !== me.hostname) return owner
  return owner.pid !== me.pid && isAlive(owner.pid) ? owner : undefined
}
