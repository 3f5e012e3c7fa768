/**
 * `refine-af resume <run-dir>`: continues an interrupted or failed run in
 * place. Completed stages are kept; the interrupted stage continues after its
 * last committed record. `key=value` overrides may fix what made it fail, as
 * long as they change no completed stage.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command } from "effect/cli"
import { readRunManifest, resumeRunDir } from "@refine-af/core"
import { checkpointFromEnv } from "../checkpoint-env.ts"
import { runDisplay } from "../run-display.ts"
import { printRunSummary, wideFlag } from "../run-summary.ts"
import { reportStorageFailures } from "../storage-failure.ts"
import { cacheDirFlag } from "./run.ts"

/** `refine-af resume`. */
export const resumeCommand = Command.make(
  "resume",
  {
    runDir: Argument.String("run-dir").pipe(Argument.withDescription("Run directory, e.g. runs/quickstart-20260124-101500-a3f9")),
    overrides: Argument.String("overrides").pipe(
      Argument.withDescription("Overrides as key.path=value for the stages still to run (refused when they change a completed stage)"),
      Argument.variadic()
    ),
    cacheDir: cacheDirFlag,
    wide: wideFlag
  },
  Effect.fnUntraced(function*({ runDir, overrides, cacheDir, wide }) {
    const manifest = yield* readRunManifest(runDir)
    if (manifest.status === "completed") {
      yield* Console.log(`${runDir} is already complete; nothing to do.`)
      return
    }
    const result = yield* resumeRunDir(runDir, {
      progress: yield* runDisplay,
      checkpoint: checkpointFromEnv(),
      overrides,
      ...(Option.isSome(cacheDir) ? { cacheDir: cacheDir.value } : {})
    }).pipe(reportStorageFailures({ runDir }))
    yield* Console.log(printRunSummary(result.runDir, result.manifest, { wide }))
  })
).pipe(
  Command.withDescription("Continue an interrupted or failed run"),
  Command.withExamples([
    { command: "refine-af resume runs/quickstart-20260124-101500-a3f9", description: "Finish an interrupted run" },
    { command: "refine-af resume runs/quickstart-20260124-101500-a3f9 resources.policy.path=./models/tiny", description: "Fix a model path only later stages use, then continue" }
  ])
)
