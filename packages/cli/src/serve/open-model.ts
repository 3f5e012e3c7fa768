/**
 * Opens one `LanguageModel` resource of a recipe outside a run (core's
 * `openResources`), in the caller's scope (released when `serve` stops).
 * Resource events reach the person starting `serve` as `run` shows them: a
 * line when a resource starts opening and when it is ready, warnings, and with
 * `--log-level debug` every event as a `debug` line.
 */
import { Effect, type Scope } from "effect"
import { LanguageModel, openResources, type LanguageModelService, type ProgressDisplay, type ResolvedRecipe, type RunDirInvalid, type StageError } from "@refine-af/core"

/** A resource event as a line for the console; `undefined` for those shown only at `--log-level debug`. */
export const resourceEventLine = (type: string, data: Readonly<Record<string, unknown>>): string | undefined => {
  const resource = String(data["resource"])
  switch (type) {
    case "resource_start":
      return `resource ${resource} (${String(data["component"])}): opening`
    case "resource_ready":
      return `  ${resource}: ready in ${(Number(data["durationMs"]) / 1000).toFixed(1)}s`
    case "warning":
      return `warning [${resource}]: ${String(data["message"])}`
    default:
      return undefined
  }
}

/** The service of resource `name`; `runDir` supplies stage outputs to a stage-fed resource (an adapter). */
export const openLanguageModel = (
  recipe: ResolvedRecipe,
  name: string,
  display: ProgressDisplay,
  runDir?: string
): Effect.Effect<LanguageModelService, StageError | RunDirInvalid, Scope.Scope> =>
  Effect.gen(function* () {
    const opened = yield* openResources(recipe, [name], {
      ...(runDir === undefined ? {} : { runDir }),
      onEvent: (type, data) => {
        display.event?.({ ts: new Date().toISOString(), type, ...data })
        const line = resourceEventLine(type, data)
        if (line !== undefined) display.message(line)
      }
    })
    return yield* opened.get(name, LanguageModel)
  })
