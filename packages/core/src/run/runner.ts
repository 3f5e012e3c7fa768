/**
 * `runRecipe` and `resumeRun`: the run engine. Stages run in the recipe's
 * topological order inside one scope that also owns the lazily made
 * resources; the manifest, event stream and report are kept up to date so a
 * run killed at any moment can be inspected and resumed.
 */
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { RecipeInvalid } from "../recipe/errors.ts"
import { loadRecipe } from "../recipe/load.ts"
import { componentVersion, type ResolvedRecipe } from "../recipe/resolved.ts"
import { defaultCacheDir } from "./cache.ts"
import { ioError, RunDirInvalid } from "./errors.ts"
import { openEventLog, type EventLog } from "./events.ts"
import { recipeDirOf } from "./recipe-path.ts"
import { ManifestShapeError, newManifest, readManifestFile, writeManifest, type RunManifest } from "./manifest.ts"
import { silentProgress, type ProgressDisplay } from "./progress.ts"
import type { CheckpointPolicy } from "./record-writer.ts"
import { writeRunReport } from "../report/write.ts"
import { acquireRunLock } from "./run-lock.ts"
import { makeResourcePool } from "./resources.ts"
import { createRunDir, newRunId, runFiles } from "./run-dir.ts"
import { acceptResumeOverrides } from "./resume-overrides.ts"
import { executeStage, manifestInputs, type StageExecError } from "./stage-exec.ts"
import type { StageOutput } from "./stage-input.ts"

/** How long a resume waits for a run held by a live process on this host to be released (one interrupted a moment ago is still saving). */
const lockPatienceMs = 3000

/** Options shared by `runRecipe` and `resumeRun`. */
export interface RunEngineOptions {
  /** Content-addressed cache folder (default `$REFINE_AF_CACHE` or `.refine-af/cache`). */
  readonly cacheDir?: string
  /** False: neither read nor write the cache (default true). */
  readonly cache?: boolean
  /** Where progress is shown (default: nowhere). */
  readonly progress?: ProgressDisplay
  /** When record streams checkpoint (default every 1000 records or 1 s). */
  readonly checkpoint?: CheckpointPolicy
  /** Aborting it interrupts the run exactly like Ctrl-C (records checkpointed, manifest `interrupted`). */
  readonly signal?: AbortSignal
}

/** Options of `runRecipe`. */
export interface RunRecipeOptions extends RunEngineOptions {
  /** Parent folder of run directories (e.g. `runs`). */
  readonly runsDir: string
  /** Run directory name (default `<name>-<yyyymmdd-hhmmss>-<rand>`). */
  readonly runId?: string
}

/** The outcome of a finished run. */
export interface RunResult {
  readonly runDir: string
  readonly manifest: RunManifest
}

/** Errors a run can end with. Interruption is fiber interruption: the manifest then says `interrupted`. */
export type RunError = StageExecError | RunDirInvalid

/** A run directory as a user should type it: relative when under the cwd, absolute otherwise. */
const shownDir = (runDir: string) => {
  const relative = path.relative(process.cwd(), runDir)
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? runDir : relative
}

const resumeHint = (runDir: string) => `refine-af resume ${shownDir(runDir)}`

const execute = (
  recipe: ResolvedRecipe,
  runDir: string,
  manifest: RunManifest,
  options: RunEngineOptions
): Effect.Effect<RunResult, RunError> =>
  Effect.suspend(() => {
    let releaseLock: () => void
    try {
      let lock = acquireRunLock(runDir)
      // A run just interrupted (Ctrl-C, SIGTERM, npm gone) may still be saving for a moment: wait for it a little.
      for (const until = Date.now() + lockPatienceMs; typeof lock !== "function" && lock.hostname === os.hostname() && Date.now() < until;) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
        lock = acquireRunLock(runDir)
      }
      if (typeof lock !== "function") {
        return Effect.fail(new RunDirInvalid({
          dir: runDir,
          message: `the run is in use by process ${lock.pid} on ${lock.hostname}`,
          fix: `wait for it to finish or stop it (a run interrupted a moment ago may still be saving: try again in a few seconds); if that process is gone, delete ${path.join(runDir, ".lock")} and resume`
        }))
      }
      releaseLock = lock
    } catch (cause) {
      return Effect.fail(ioError(runDir)(cause))
    }
    const display = options.progress ?? silentProgress
    let events: EventLog
    try {
      events = openEventLog(path.join(runDir, runFiles.events), display)
    } catch (cause) {
      releaseLock()
      return Effect.fail(ioError(path.join(runDir, runFiles.events))(cause))
    }
    const attempt = manifest.attempts[manifest.attempts.length - 1]!
    const saveManifest = () => writeManifest(runDir, manifest)
    const cacheEnabled = options.cache ?? manifest.cacheEnabled
    events.write(manifest.attempts.length === 1 ? "run_start" : "run_resume", { runId: manifest.runId, name: recipe.name, attempt: manifest.attempts.length })
    display.message(`${manifest.attempts.length === 1 ? "run" : "resuming"} ${shownDir(runDir)}`)

    const finalize = (exit: Exit.Exit<void, RunError>) =>
      Effect.sync(() => {
        const status = Exit.isSuccess(exit) ? "completed" : Exit.hasInterrupts(exit) ? "interrupted" : "failed"
        const now = new Date().toISOString()
        manifest.status = status
        attempt.status = status
        attempt.endedAt = now
        manifest.endedAt = now
        if (status === "failed" && Exit.isFailure(exit)) {
          const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail")
          const error = failure?._tag === "Fail" ? failure.error : undefined
          manifest.error = error instanceof Error ? error.message : "unexpected defect (run with REFINE_AF_DEBUG=1 for details)"
        } else delete manifest.error
        for (const stage of Object.values(manifest.stages)) if (stage.status === "running") stage.status = status === "completed" ? "completed" : status
        writeManifest(runDir, manifest)
        try {
          writeRunReport(runDir, manifest)
        } catch (cause) {
          // The run's outcome stands without its report; `refine-af report` can write it later.
          display.message(`the run report could not be written (${cause instanceof Error ? cause.message : String(cause)}); write it later with: refine-af report ${shownDir(runDir)}`)
        }
        events.write("run_end", { status, runId: manifest.runId })
        if (status === "interrupted") display.message(`interrupted; continue with: ${resumeHint(runDir)}`)
        if (status === "failed") {
          display.message(`failed; fix the problem and run again — completed stages come from the cache — or continue this run with: ${resumeHint(runDir)} [key=value ...]`)
        }
        events.close()
        releaseLock()
      })

    const program = Effect.scoped(Effect.gen(function*() {
      const recipeDir = recipeDirOf(manifest)
      const outputs = new Map<string, StageOutput>()
      const onMade = (name: string, identity: string) => {
        const entry = manifest.resources?.[name]
        if (entry !== undefined) Object.assign(entry, { made: true, identity })
        saveManifest()
      }
      const resources = makeResourcePool({ recipe, events, scope: yield* Effect.scope, recipeDir, outputs, onMade, ...(cacheEnabled ? { cacheDir: manifest.cacheDir } : {}) })
      const env = {
        recipe,
        recipeDir,
        runDir,
        manifest,
        saveManifest,
        events,
        resources,
        outputs,
        cacheDir: manifest.cacheDir,
        cacheEnabled,
        checkpoint: options.checkpoint ?? {}
      }
      // List the whole plan up front so `inspect` shows what is still to come.
      for (const name of recipe.order) {
        const stage = recipe.stages[name]!
        manifest.stages[name] ??= {
          status: "pending",
          componentId: stage.componentId,
          version: componentVersion(stage),
          cacheKey: "",
          ...manifestInputs(stage)
        }
      }
      manifest.resources = Object.fromEntries(recipe.resourceOrder.map((name) => {
        const resource = recipe.resources[name]!
        const builtFrom = [...new Set(Object.values(resource.inputs ?? {}))]
        const uses = [...new Set(Object.values(resource.uses))]
        return [name, { componentId: resource.componentId, ...(builtFrom.length > 0 ? { builtFrom } : {}), ...(uses.length > 0 ? { uses } : {}) }]
      }))
      yield* Effect.try({ try: saveManifest, catch: ioError(runDir) })
      yield* Effect.forEach(recipe.order, (name, index) => executeStage(env, name, index + 1), { discard: true })
    }))

    return program.pipe(
      Effect.onExit(finalize),
      Effect.as<RunResult>({ runDir, manifest }),
      interruptOnAbort(options.signal)
    )
  })

/** Interrupts `effect` when `signal` aborts (the effect's finalizers run before this completes). */
const interruptOnAbort = (signal: AbortSignal | undefined) => <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> => {
  if (signal === undefined) return effect
  const aborted = Effect.callback<never>((resume) => {
    const onAbort = () => resume(Effect.interrupt)
    if (signal.aborted) onAbort()
    else signal.addEventListener("abort", onAbort, { once: true })
    return Effect.sync(() => signal.removeEventListener("abort", onAbort))
  })
  return Effect.raceFirst(effect, aborted)
}

/**
 * Runs a resolved recipe in a new run directory under `runsDir`.
 * Interrupting the effect (Ctrl-C) checkpoints every record stream, marks the
 * run `interrupted`, and leaves it ready for `resumeRun`.
 *
 * @example
 * ```ts
 * const { runDir } = yield* runRecipe(recipe, { runsDir: "runs" })
 * ```
 */
export const runRecipe = (recipe: ResolvedRecipe, options: RunRecipeOptions): Effect.Effect<RunResult, RunError> =>
  Effect.gen(function*() {
    const runId = options.runId ?? newRunId(recipe.name)
    const cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir())
    const runDir = yield* Effect.try({
      try: () => {
        if (fs.existsSync(path.resolve(options.runsDir, runId, "manifest.json"))) throw new Error(`run directory ${runId} already exists`)
        return createRunDir(options.runsDir, runId, recipe)
      },
      catch: ioError(path.resolve(options.runsDir, runId))
    })
    const manifest = newManifest(recipe, runId, { cacheDir, cacheEnabled: options.cache ?? true })
    return yield* execute(recipe, runDir, manifest, options)
  })

/** A folder `refine-af run` created and then lost (killed between making it and writing its manifest): no manifest, no stage output. */
const startedOnly = (runDir: string): boolean => {
  try {
    const names = fs.readdirSync(runDir)
    if (names.includes("manifest.json") || !names.includes("stages")) return false
    return fs.readdirSync(path.join(runDir, "stages")).length === 0
  } catch {
    return false
  }
}

/** Reads the manifest of a run directory, or fails with `RunDirInvalid`. */
export const readRunManifest = (runDir: string): Effect.Effect<RunManifest, RunDirInvalid> =>
  Effect.try({
    try: () => readManifestFile(runDir),
    catch: (cause) =>
      cause instanceof ManifestShapeError || (cause instanceof SyntaxError && fs.existsSync(path.join(runDir, "manifest.json")))
        ? new RunDirInvalid({
          dir: runDir,
          message: cause instanceof ManifestShapeError ? cause.message : `${path.join(runDir, "manifest.json")} is not valid JSON (${(cause as SyntaxError).message}): the run's record of its stages is damaged`,
          fix: `restore ${path.join(runDir, "manifest.json")} (it is rewritten by every run and resume; a hand edit or a damaged disk broke it), or start the run again with \`refine-af run\` (stages already in the cache are reused)`
        })
        : startedOnly(runDir)
        ? new RunDirInvalid({
          dir: runDir,
          message: `${runDir} is a run that was stopped as it started, before it wrote manifest.json: no stage ran, so there is nothing to resume`,
          fix: "run the recipe again (refine-af run <recipe>; its resolved copy is recipe.yaml in that folder), and delete this folder"
        })
        : new RunDirInvalid({
          dir: runDir,
          message: `${runDir} is not a run directory (${fs.existsSync(runDir) ? "manifest.json missing or unreadable" : "it does not exist"}): ${cause instanceof Error ? cause.message : String(cause)}`,
          fix: "pass a folder created by `refine-af run`, e.g. runs/<name>-<date>-<id>"
        })
  })

/**
 * Continues an interrupted or failed run in place. Completed stages are not
 * re-run; the interrupted stage continues after its last committed record.
 * `recipe` is the run's recipe reloaded from `<runDir>/recipe.yaml`.
 */
export const resumeRun = (
  runDir: string,
  recipe: ResolvedRecipe,
  options: RunEngineOptions = {}
): Effect.Effect<RunResult, RunError> =>
  Effect.gen(function*() {
    const absolute = path.resolve(runDir)
    const manifest = yield* readRunManifest(absolute)
    if (manifest.status === "completed") return { runDir: absolute, manifest }
    if (manifest.name !== recipe.name) {
      return yield* new RunDirInvalid({
        dir: absolute,
        message: `the run was made by recipe "${manifest.name}" but the recipe given is "${recipe.name}"`,
        fix: `resume with the run's own recipe (${path.join(absolute, runFiles.recipe)})`
      })
    }
    if (options.cacheDir !== undefined) manifest.cacheDir = path.resolve(options.cacheDir)
    manifest.status = "running"
    delete manifest.endedAt
    // An attempt still marked running was killed (kill -9 leaves no end): it was interrupted.
    for (const attempt of manifest.attempts) if (attempt.status === "running") attempt.status = "interrupted"
    manifest.attempts.push({ startedAt: new Date().toISOString(), status: "running" })
    return yield* execute(recipe, absolute, manifest, options)
  })

/** Options of `resumeRunDir`. */
export interface ResumeRunDirOptions extends RunEngineOptions {
  /**
   * `key.path=value` overrides for the rest of the run. Accepted when they
   * change no completed stage's identity (e.g. a fixed path of a model only
   * the failed stage uses), refused naming the stages they would change.
   */
  readonly overrides?: ReadonlyArray<string>
}

/**
 * `resumeRun` with the run's own recipe, reloaded and revalidated from
 * `<runDir>/recipe.yaml` (plugins resolve from the run directory, then the cwd).
 * A completed run is returned as is.
 *
 * @example
 * ```ts
 * const { manifest } = yield* resumeRunDir("runs/quickstart-20260124-101500-a3f9")
 * ```
 */
export const resumeRunDir = (
  runDir: string,
  options: ResumeRunDirOptions = {}
): Effect.Effect<RunResult, RunError | RecipeInvalid> =>
  Effect.gen(function*() {
    const manifest = yield* readRunManifest(runDir)
    if (manifest.status === "completed") return { runDir: path.resolve(runDir), manifest }
    const overrides = options.overrides ?? []
    const recipe = yield* loadRecipe(path.join(runDir, runFiles.recipe), { recipeDir: recipeDirOf(manifest), overrides })
    yield* acceptResumeOverrides(recipe, manifest, path.resolve(runDir), overrides)
    return yield* resumeRun(runDir, recipe, options)
  })
