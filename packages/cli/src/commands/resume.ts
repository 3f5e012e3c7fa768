/**
 * `refine-af resume <run-dir>`: continues an interrupted or failed run in
 * place. Completed stages are kept; the interrupted stage continues after its
 * last committed record. `key=value` overrides may fix what made it fail, as
 * long as they change no completed stage; on a completed run every override
 * is refused (a new run takes them, its unchanged stages from the cache).
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { readRunManifest, resumeRunDir, RunDirInvalid, type RunManifest } from "@refine-af/core"
import { checkpointFromEnv } from "../checkpoint-env.ts"
import { runDisplay } from "../run-display.ts"
import { printRunSummary, wideFlag } from "../run-summary.ts"
import { checkFolders, reportStorageFailures } from "../storage-failure.ts"
import { cacheDirFlag, chosenCacheFolder } from "./run.ts"

const completedRunOverridesRefused = (runDir: string, manifest: RunManifest, overrides: ReadonlyArray<string>) => {
  const plural = overrides.length === 1 ? "" : "s"
  return new RunDirInvalid({
    dir: runDir,
    message: `${runDir} is already complete: resume only continues unfinished stages, so the override${plural} ${overrides.join(" ")} would not take effect`,
    fix: `to change options, start a new run with the override${plural}: refine-af run ${manifest.recipeFile} ${overrides.join(" ")} — stages the override${plural} leave${plural === "" ? "s" : ""} unchanged come from the cache`
  })
}

/** `refine-af resume`. */
export const resumeCommand = Command.make(
  "resume",
  {
    runDir: Argument.String("run-dir").pipe(Argument.withDescription("Run directory, e.g. runs/quickstart-20260124-101500-a3f9")),
    overrides: Argument.String("overrides").pipe(
      Argument.withDescription("Overrides as key.path=value for the stages still to run (refused when they change a completed stage)"),
      Argument.variadic()
    ),
    cacheDir: cacheDirFlag.pipe(Flag.withDescription("Stage cache folder (default: the one the run was started with, recorded in its manifest)")),
    wide: wideFlag
  },
  Effect.fnUntraced(function*({ runDir, overrides, cacheDir, wide }) {
    const manifest = yield* readRunManifest(runDir)
    if (manifest.status === "completed") {
      // Nothing of a completed run is left to take an override: refused like one that would change a completed stage.
      if (overrides.length > 0) return yield* completedRunOverridesRefused(runDir, manifest, overrides)
      yield* Console.log(`${runDir} is already complete; nothing to do.`)
      return
    }
    if (Option.isSome(cacheDir)) yield* checkFolders([chosenCacheFolder(cacheDir)])
    const result = yield* resumeRunDir(runDir, {
      progress: yield* runDisplay,
      checkpoint: checkpointFromEnv(),
      overrides,
      ...(Option.isSome(cacheDir) ? { cacheDir: cacheDir.value } : {})
    }).pipe(reportStorageFailures({ runDir, cacheDir: Option.getOrElse(cacheDir, () => manifest.cacheDir) }))
    yield* Console.log(printRunSummary(result.runDir, result.manifest, { wide }))
  })
).pipe(
  Command.withDescription("Continue an interrupted or failed run"),
  Command.withExamples([
    { command: "refine-af resume runs/quickstart-20260124-101500-a3f9", description: "Finish an interrupted run" },
    { command: "refine-af resume runs/quickstart-20260124-101500-a3f9 resources.policy.path=./models/tiny", description: "Fix a model path only later stages use, then continue" }
  ])
)
