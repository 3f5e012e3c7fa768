/**
 * Storage conditions a run can hit at any moment (disk full, a read-only or forbidden folder,
 * a file where a folder has to be, the run folder deleted while the run was going), recognised
 * wherever they surface (a typed error from the run engine or a thrown Node error) and turned
 * into one message that names the condition and the path and says how to continue. The folders
 * a command is given are checked before any work starts (`checkFolders`).
 */
import { Cause, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { cliCommand } from "./invocation.ts"

/** A run stopped on a storage condition; `fix` says how to continue without losing work. */
export class StorageFailure extends Schema.TaggedError<StorageFailure>()("StorageFailure", {
  condition: Schema.String,
  path: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** A folder the user chose is a file, or a file stands where a folder above it has to be. */
export class FolderInvalid extends Schema.TaggedError<FolderInvalid>()("FolderInvalid", {
  path: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/**
 * Where the command keeps its runs: `run` knows the parent folder, `resume` the run folder;
 * `cacheDir`, when given, is the stage cache the run fills.
 */
export type RunLocation = ({ readonly runsDir: string } | { readonly runDir: string }) & { readonly cacheDir?: string }

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
  /** The failed call (`mkdir`, `open`, ...) when known. */
  readonly syscall: string | undefined
}

const codePattern = /\b(ENOSPC|EDQUOT|EROFS|EACCES|EPERM|ENOENT|ENOTDIR|EEXIST)\b/
const quotedPath = /'([^']+)'/
const syscallInMessage = /, (\w+) '/

/** The Node file-system error code and path inside one failure (error object, or its message). */
const fsFailureOf = (error: unknown): FsFailure | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const record = error as { code?: unknown; path?: unknown; syscall?: unknown; message?: unknown; cause?: unknown }
  const syscall = typeof record.syscall === "string" ? record.syscall : undefined
  if (typeof record.code === "string" && codePattern.test(record.code)) {
    return { code: record.code, path: typeof record.path === "string" ? record.path : undefined, syscall }
  }
  const message = typeof record.message === "string" ? record.message : ""
  const code = codePattern.exec(message)?.[1]
  if (code !== undefined) {
    const rest = message.slice(message.indexOf(code))
    const named = quotedPath.exec(rest)?.[1]
    return { code, path: named ?? (typeof record.path === "string" ? record.path : undefined), syscall: syscall ?? syscallInMessage.exec(rest)?.[1] }
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

/**
 * The run a `run` command was writing when its error names no file (Node leaves the path out of
 * some write errors): the newest run folder under the runs folder whose manifest says it is
 * still running, if any.
 */
const runningRunDir = (location: RunLocation): string | undefined => {
  if (!("runsDir" in location)) return path.resolve(location.runDir)
  const runsDir = path.resolve(location.runsDir)
  let newest: { readonly dir: string; readonly at: number } | undefined
  try {
    for (const entry of fs.readdirSync(runsDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const manifest = path.join(runsDir, entry.name, "manifest.json")
      try {
        const status = (JSON.parse(fs.readFileSync(manifest, "utf8")) as { status?: unknown }).status
        const at = fs.statSync(manifest).mtimeMs
        if (status === "running" && (newest === undefined || at > newest.at)) newest = { dir: path.join(runsDir, entry.name), at }
      } catch { /* not a run folder, or one being written */ }
    }
  } catch { /* no runs folder */ }
  return newest?.dir
}

const nearestExisting = (folder: string): string =>
  fs.existsSync(folder) || path.dirname(folder) === folder ? folder : nearestExisting(path.dirname(folder))

const resumable = (runDir: string | undefined) =>
  runDir !== undefined && fs.existsSync(path.join(runDir, "manifest.json"))

const isFolder = (file: string) => {
  try {
    return fs.statSync(file).isDirectory()
  } catch {
    return false
  }
}

/** The file (anything but a folder) standing at `folder` or at a folder above it, which keeps it from being made. */
export const fileBlocking = (folder: string): string | undefined => {
  const existing = nearestExisting(path.resolve(folder))
  return fs.existsSync(existing) && !isFolder(existing) ? existing : undefined
}

/** A folder the user chose: how they named it (`--runs-dir runs`), its path, and how to choose another. */
export interface ChosenFolder {
  readonly named: string
  readonly path: string
  readonly change: string
}

/**
 * Fails with `FolderInvalid` when a file stands where one of `folders` has to be made: checked
 * before the recipe loads, so the user learns it in a second, not after a model has loaded.
 */
export const checkFolders = (folders: ReadonlyArray<ChosenFolder>): Effect.Effect<void, FolderInvalid> =>
  Effect.suspend(() => {
    for (const folder of folders) {
      const file = fileBlocking(folder.path)
      if (file === undefined) continue
      return Effect.fail(new FolderInvalid({
        path: folder.path,
        message: file === path.resolve(folder.path)
          ? `${folder.named} is a file, not a folder`
          : `${folder.named} cannot be a folder: ${file} is a file`,
        fix: `${folder.change}, or move ${file} out of the way`
      }))
    }
    return Effect.void
  })

/** A file where a folder has to be (ENOTDIR; EEXIST from mkdir): names the file and how to get past it. */
const notAFolder = (failure: FsFailure, location: RunLocation, file: string | undefined, runDir: string | undefined): StorageFailure | undefined => {
  if (file === undefined) return undefined
  if (failure.code === "EEXIST" && (failure.syscall !== "mkdir" || isFolder(file))) return undefined
  // Only the folders of the run and its cache: a file given as, say, a model folder is the plugin's to report.
  const roots = ["runsDir" in location ? location.runsDir : location.runDir, ...(location.cacheDir === undefined ? [] : [location.cacheDir])]
  if (!roots.some((root) => inside(path.resolve(root), file))) return undefined
  const blocker = fileBlocking(file)
  if (blocker === undefined) return undefined
  const resume = resumable(runDir)
    ? `then continue with: ${cliCommand()} resume ${runDir} (committed records are kept)`
    : "then run the recipe again (stages that had finished come from the cache)"
  const runsDirBlocked = "runsDir" in location && inside(blocker, path.resolve(location.runsDir))
  const remedy = runsDirBlocked
    ? `pass a folder as --runs-dir, or move ${blocker} out of the way`
    : `move ${blocker} out of the way, or choose another folder (--runs-dir, --cache-dir)`
  return new StorageFailure({
    condition: "not a folder",
    path: blocker,
    message: file === blocker
      ? `${blocker} is a file where a folder has to be made (${failure.code})`
      : `${blocker} is a file, not a folder (${failure.code}), so ${file} cannot be made`,
    fix: `${remedy}, ${resume}`
  })
}

/** Classifies one failure; `undefined` when it is not a storage condition of this run. */
export const storageFailureOf = (error: unknown, location: RunLocation): StorageFailure | undefined => {
  const failure = fsFailureOf(error)
  if (failure === undefined) return undefined
  const file = failure.path === undefined ? undefined : path.resolve(failure.path)
  const runDir = file === undefined ? runningRunDir(location) : runDirOf(location, file)
  const where = file ?? runDir ?? ("runsDir" in location ? path.resolve(location.runsDir) : "(unknown path)")
  if (failure.code === "ENOTDIR" || failure.code === "EEXIST") return notAFolder(failure, location, file, runDir)
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
    ? `then continue with: ${cliCommand()} resume ${runDir} (committed records are kept)`
    : "then run the recipe again (stages that had finished come from the cache)"
  const remedy = failure.code === "ENOSPC" || failure.code === "EDQUOT"
    ? `free space on the disk holding ${where} (\`${cliCommand()} cache\` shows what the cache folder holds; \`${cliCommand()} cache prune --older-than 30d\` removes what runs have not used for a month)`
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
