/**
 * `resume <run> key=value`: a resumed run may take overrides that leave every
 * completed stage's identity as it is (a stage that failed or was not reached
 * may change: a fixed model path, a smaller batch). An override that would
 * change a completed stage is refused, naming the stage: that is a new run,
 * whose unchanged stages come from the cache.
 */
import { Effect, Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { ResolvedRecipe } from "../recipe/resolved.ts"
import { ioError, RunDirInvalid, type RunIoError } from "./errors.ts"
import type { RunManifest } from "./manifest.ts"
import { makeResourcePool } from "./resources.ts"
import { recipeDirOf } from "./recipe-path.ts"
import { runRecipeText, runFiles, stageDirOf } from "./run-dir.ts"
import { stageKeyOf } from "./stage-exec.ts"
import type { StageOutput } from "./stage-input.ts"

const finished = (status: string) => status === "completed" || status === "cached"

/** Completed stages of `manifest` whose identity under `recipe` differs from the one they ran with. */
export const changedCompletedStages = (recipe: ResolvedRecipe, manifest: RunManifest, runDir: string): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function*() {
    const outputs = new Map<string, StageOutput>()
    for (const [stage, entry] of Object.entries(manifest.stages)) {
      if (finished(entry.status) && entry.outputHash !== undefined) {
        outputs.set(stage, { stage, dir: stageDirOf(runDir, stage), hash: entry.outputHash, count: entry.records ?? 0 })
      }
    }
    const recipeDir = recipeDirOf(manifest)
    const scope = yield* Scope.make()
    const silent = { write: () => {}, sinkFor: () => ({ progress: () => Effect.void, metric: () => Effect.void, warn: () => Effect.void, emit: () => Effect.void }) }
    const pool = makeResourcePool({ recipe, events: silent, scope, recipeDir, outputs })
    const changed: Array<string> = []
    for (const name of recipe.order) {
      const entry = manifest.stages[name]
      if (entry === undefined || !finished(entry.status)) continue
      const key = stageKeyOf(recipe, name, {
        outputHash: (stage) => outputs.get(stage)?.hash,
        resourceIdentity: pool.identity,
        recipeDir,
        cacheDir: manifest.cacheEnabled ? manifest.cacheDir : undefined
      })
      if (key !== entry.cacheKey) changed.push(name)
    }
    yield* Scope.close(scope, undefined as never)
    return changed
  })

/**
 * Checks `overrides` (already applied to `recipe`) against the run's completed
 * stages; when they change none, writes the overridden recipe into the run
 * directory so later resumes use it too.
 */
export const acceptResumeOverrides = (
  recipe: ResolvedRecipe,
  manifest: RunManifest,
  runDir: string,
  overrides: ReadonlyArray<string>
): Effect.Effect<void, RunDirInvalid | RunIoError> =>
  Effect.gen(function*() {
    if (overrides.length === 0) return
    const changed = yield* changedCompletedStages(recipe, manifest, runDir)
    if (changed.length > 0) {
      const stages = changed.map((stage) => `"${stage}"`).join(", ")
      return yield* new RunDirInvalid({
        dir: runDir,
        message: `${overrides.join(" ")} would change completed stage${changed.length === 1 ? "" : "s"} ${stages} of this run, so the run could not be resumed with ${overrides.length === 1 ? "it" : "them"}`,
        fix: `run the recipe again with the override${overrides.length === 1 ? "" : "s"} (refine-af run ${manifest.recipeFile} ${overrides.join(" ")}) — completed stages come from the cache`
      })
    }
    const file = path.join(runDir, runFiles.recipe)
    yield* Effect.try({ try: () => fs.writeFileSync(file, runRecipeText(manifest.runId, recipe)), catch: ioError(file) })
  })
