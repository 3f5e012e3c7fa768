/**
 * Storage conditions a run can hit at any moment (disk full, a read-only or forbidden folder,
 * the run folder deleted while the run was going), recognised wherever they surface (a typed
 * error from the run engine or a thrown Node error) and turned into one message that names
 * the condition and the path and says how to continue.
 */
import { Cause, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

/** A run stopped on a storage condition; `fix` says how to continue without losing work. */
export class StorageFailure extends Schema.TaggedError<StorageFailure>()("StorageFailure", {
  condition: Schema.String,
  path: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** Where the command keeps its runs: `run` knows the parent folder, `resume` the run folder. */
export type RunLocation = { readonly runsDir: string } | { readonly runDir: string }

const conditions: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted"
}

interface FsFailure {
  readonly code: string
  readonly path: string | undefined
}

const codePattern = /\b(ENOSPC|EDQUOT|EROFS|EACCES|EPERM|ENOENT)\b/
const quotedPath = /'([^']+)'/

/** The Node file-system error code and path inside one failure (error object, or its message). */
const fsFailureOf = (error: unknown): FsFailure | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const record = error as { code?: unknown; path?: unknown; message?: unknown; cause?: unknown }
  if (typeof record.code === "string" && codePattern.test(record.code)) {
    return { code: record.code, path: typeof record.path === "string" ? record.path : undefined }
  }
  const message = typeof record.message === "string" ? record.message : ""
  const code = codePattern.exec(message)?.[1]
  if (code !== undefined) {
    const named = quotedPath.exec(message.slice(message.indexOf(code)))?.[1]
    return { code, path: named ?? (typeof record.path === "string" ? record.path : undefined) }
  }
  return record.cause !== undefined && record.cause !== error ? fsFailureOf(record.cause) : undefined
}

const inside = (parent: string, child: string) => {
  const relative = path.relative(parent, child)
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative))
}

/** The run folder a path belongs to (a direct child of `runsDir`), if any. */
const runDirOf = (location: RunLocation, file: string): string | undefined => {
  if ("runDir" in location) return inside(path.resolve(location.runDir), file) ? path.resolve(location.runDir) : undefined
  const runsDir = path.resolve(location.runsDir)
  const relative = path.relative(runsDir, file)
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return undefined
  return path.join(runsDir, relative.split(path.sep)[0]!)
}

const nearestExisting = (folder: string): string =>
  fs.existsSync(folder) || path.dirname(folder) === folder ? folder : nearestExisting(path.dirname(folder))

const resumable = (runDir: string | undefined) =>
  runDir !== undefined && fs.existsSync(path.join(runDir, "manifest.json"))

/** Classifies one failure; `undefined` when it is not a storage condition of this run. */
export const storageFailureOf = (error: unknown, location: RunLocation): StorageFailure | undefined => {
  const failure = fsFailureOf(error)
  if (failure === undefined) return undefined
  const file = failure.path === undefined ? undefined : path.resolve(failure.path)
  const runDir = file === undefined ? ("runDir" in location ? path.resolve(location.runDir) : undefined) : runDirOf(location, file)
  const where = file ?? runDir ?? "(unknown path)"
  if (failure.code === "ENOENT") {
    // A missing file is only a storage condition when the run's own folder vanished.
    if (runDir === undefined || fs.existsSync(path.join(runDir, "manifest.json"))) return undefined
    return new StorageFailure({
      condition: "run folder deleted",
      path: runDir,
      message: `the run folder ${runDir} was deleted or moved while the run was going (could not write ${where})`,
      fix: "nothing is left to resume there: run the recipe again; stages that had finished come from the cache"
    })
  }
  const condition = conditions[failure.code]!
  const resume = resumable(runDir)
    ? `then continue with: refine-af resume ${runDir} (committed records are kept)`
    : "then run the recipe again (stages that had finished come from the cache)"
  const remedy = failure.code === "ENOSPC" || failure.code === "EDQUOT"
    ? `free space on the disk holding ${where}`
    : `make ${nearestExisting(path.dirname(where))} writable, or choose another folder (--runs-dir, --cache-dir)`
  return new StorageFailure({
    condition,
    path: where,
    message: `${condition} (${failure.code}) writing ${where}`,
    fix: `${remedy}, ${resume}`
  })
}

/** Replaces a storage condition anywhere in the failure with a `StorageFailure`; other failures pass. */
export const reportStorageFailures = (location: RunLocation) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | StorageFailure, R> =>
  Effect.catchCause(effect, (cause): Effect.Effect<never, E | StorageFailure> => {
    if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
    for (const reason of cause.reasons) {
      const error = reason._tag === "Fail" ? reason.error : reason._tag === "Die" ? reason.defect : undefined
      const storage = error === undefined ? undefined : storageFailureOf(error, location)
      if (storage !== undefined) return Effect.fail(storage)
    }
    return Effect.failCause(cause)
  })
