/**
 * `refine-af run <recipe> [overrides...]`: validates the recipe, then runs it
 * in a new run directory, with live progress, the stage cache and crash-safe
 * record streams.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { defaultCacheDir, loadRecipe, runRecipe } from "@refine-af/core"
import { checkpointFromEnv } from "../checkpoint-env.ts"
import { runDisplay } from "../run-display.ts"
import { printRunSummary, wideFlag } from "../run-summary.ts"
import { checkFolders, reportStorageFailures, type ChosenFolder } from "../storage-failure.ts"

/** `--cache-dir`, shared by `run` and `resume`. */
export const cacheDirFlag = Flag.String("cache-dir").pipe(
  Flag.withDescription("Stage cache folder (default: $REFINE_AF_CACHE, else .refine-af/cache in the current folder)"),
  Flag.optional
)

/** The stage cache folder and how it was chosen: `--cache-dir`, else $REFINE_AF_CACHE, else the default. */
export const chosenCacheFolder = (cacheDir: Option.Option<string>): ChosenFolder => {
  if (Option.isSome(cacheDir)) return { named: `--cache-dir ${cacheDir.value}`, path: cacheDir.value, change: "pass a folder (or a path to create) as --cache-dir" }
  const fromEnv = process.env["REFINE_AF_CACHE"]
  return fromEnv !== undefined && fromEnv !== ""
    ? { named: `REFINE_AF_CACHE=${fromEnv}`, path: defaultCacheDir(), change: "set REFINE_AF_CACHE to a folder (or pass --cache-dir)" }
    : { named: `the cache folder ${defaultCacheDir()}`, path: defaultCacheDir(), change: "pass --cache-dir with a folder" }
}

/** `refine-af run`. */
export const runCommand = Command.make(
  "run",
  {
    recipe: Argument.String("recipe").pipe(Argument.withDescription("Recipe YAML file, e.g. recipes/quickstart.yaml")),
    overrides: Argument.String("overrides").pipe(
      Argument.withDescription("Overrides as key.path=value, e.g. seed=7 stages.lines.count=50"),
      Argument.variadic()
    ),
    runsDir: Flag.String("runs-dir").pipe(Flag.withDescription("Parent folder of run directories"), Flag.withDefault("runs")),
    cacheDir: cacheDirFlag,
    wide: wideFlag,
    cache: Flag.Boolean("cache").pipe(
      Flag.withDescription("Reuse and fill the stage cache (--no-cache re-runs every stage)"),
      Flag.withDefault(true)
    )
  },
  Effect.fnUntraced(function*({ recipe, overrides, runsDir, cacheDir, cache, wide }) {
    const cacheFolder = Option.getOrElse(cacheDir, defaultCacheDir)
    yield* checkFolders([
      { named: `--runs-dir ${runsDir}`, path: runsDir, change: "pass a folder (or a path to create) as --runs-dir" },
      ...(cache ? [chosenCacheFolder(cacheDir)] : [])
    ])
    const resolved = yield* loadRecipe(recipe, { overrides })
    const result = yield* runRecipe(resolved, {
      runsDir,
      cache,
      progress: yield* runDisplay,
      checkpoint: checkpointFromEnv(),
      ...(Option.isSome(cacheDir) ? { cacheDir: cacheDir.value } : {})
    }).pipe(reportStorageFailures({ runsDir, cacheDir: cacheFolder }))
    yield* Console.log(printRunSummary(result.runDir, result.manifest, { wide }))
  })
).pipe(
  Command.withDescription("Run a recipe in a new run directory"),
  Command.withExamples([
    { command: "refine-af run recipes/quickstart.yaml", description: "Run the offline quickstart" },
    { command: "refine-af run recipes/examples/demo.yaml seed=7 stages.lines.count=50 --no-cache", description: "Override options, ignore the cache" }
  ])
)
