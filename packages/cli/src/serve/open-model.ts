/**
 * Opens one `LanguageModel` resource of a recipe outside a run, with the
 * resources it uses, in the caller's scope (released when `serve` stops).
 * Events of the resources go to stderr as one line each.
 */
import { Effect, Scope } from "effect"
import * as path from "node:path"
import { LanguageModel, StageError, stageSeed, type EventSink, type LanguageModelService, type ResolvedRecipe } from "@refine-af/core"

const stderrEvents = (source: string): EventSink => ({
  progress: () => Effect.void,
  metric: () => Effect.void,
  warn: (message) => Effect.sync(() => process.stderr.write(`${source}: warning: ${message}\n`)),
  emit: (type, data) => Effect.sync(() => process.stderr.write(`${source}: ${type} ${JSON.stringify(data)}\n`))
})

/** The service of resource `name`, which must provide `LanguageModel`. */
export const openLanguageModel = (recipe: ResolvedRecipe, name: string): Effect.Effect<LanguageModelService, StageError, Scope.Scope> =>
  Effect.gen(function* () {
    const resource = recipe.resources[name]
    const names = Object.keys(recipe.resources)
    if (resource === undefined) {
      return yield* Effect.fail(new StageError({ stage: "serve", message: `the recipe has no resource "${name}"`, fix: names.length > 0 ? `pass --resource with one of: ${names.join(", ")}` : "add the model under resources: in the recipe" }))
    }
    const provides = ([] as Array<unknown>).concat(resource.component.provides)
    if (!provides.includes(LanguageModel)) {
      return yield* Effect.fail(new StageError({ stage: "serve", message: `resource "${name}" (${resource.componentId}) is not a LanguageModel`, fix: "serve a model resource, e.g. llama/hf or openai/lm" }))
    }
    const scope = yield* Effect.scope
    const made = new Map<string, unknown>()
    const make = (resourceName: string): Effect.Effect<unknown, StageError> =>
      Effect.gen(function* () {
        if (made.has(resourceName)) return made.get(resourceName)
        const node = recipe.resources[resourceName]!
        const uses: Record<string, unknown> = {}
        for (const [slot, used] of Object.entries(node.uses)) uses[slot] = yield* make(used)
        const service = yield* node.component.make({
          name: resourceName,
          options: node.options,
          seed: stageSeed(recipe.seed, `resource:${resourceName}`),
          uses,
          events: stderrEvents(resourceName),
          recipeDir: path.dirname(recipe.file)
        }).pipe(Scope.provide(scope))
        made.set(resourceName, service)
        return service
      })
    return (yield* make(name)) as LanguageModelService
  })
