/**
 * Opens one `LanguageModel` resource of a recipe outside a run (core's
 * `openResources`), in the caller's scope (released when `serve` stops).
 * Resource events go to stderr, one line each.
 */
import { Effect, type Scope } from "effect"
import { LanguageModel, openResources, type LanguageModelService, type ResolvedRecipe, type RunDirInvalid, type StageError } from "@refine-af/core"

/** The service of resource `name`; `runDir` supplies stage outputs to a stage-fed resource (an adapter). */
export const openLanguageModel = (recipe: ResolvedRecipe, name: string, runDir?: string): Effect.Effect<LanguageModelService, StageError | RunDirInvalid, Scope.Scope> =>
  Effect.gen(function* () {
    const opened = yield* openResources(recipe, [name], {
      ...(runDir === undefined ? {} : { runDir }),
      onEvent: (type, data) => {
        if (type !== "progress" && type !== "metric") process.stderr.write(`${type} ${JSON.stringify(data)}\n`)
      }
    })
    return yield* opened.get(name, LanguageModel)
  })
