/**
 * Lazy resource instantiation. A resource (model, scorer, backend) is made the
 * first time a stage that actually runs needs it — cache hits need no model —
 * after the resources it uses, inside the run's scope, so its finalizers run
 * when the run ends, fails or is interrupted.
 */
import { Effect, Scope } from "effect"
import type { ResolvedRecipe } from "../recipe/resolved.ts"
import { StageError } from "../stage/errors.ts"
import type { EventLog } from "./events.ts"
import { resourceIdentity } from "./hash.ts"
import { stageSeed } from "./seed.ts"

/** Resources of one run, made on demand. */
export interface ResourcePool {
  /** The services for a component's slots (slot → resource name), making resources as needed. */
  readonly servicesFor: (
    owner: string,
    uses: Readonly<Record<string, string>>
  ) => Effect.Effect<Record<string, unknown>, StageError>
  /** Identity hash of a resource (part of the cache key of the stages using it). */
  readonly identity: (name: string) => string
}

/** Creates the resource pool of a run; made resources live in `scope`. */
export const makeResourcePool = (
  recipe: ResolvedRecipe,
  events: EventLog,
  scope: Scope.Scope,
  recipeDir: string,
  cacheDir?: string
): ResourcePool => {
  const made = new Map<string, unknown>()
  const identities = new Map<string, string>()

  const lookup = (owner: string, name: string) => {
    const resource = recipe.resources[name]
    if (resource === undefined) {
      return Effect.fail(new StageError({
        stage: owner,
        message: `uses resource "${name}", which the recipe does not define`,
        fix: `add "${name}" under resources: in the recipe, or fix the name`
      }))
    }
    return Effect.succeed(resource)
  }

  const identity = (name: string): string => {
    const known = identities.get(name)
    if (known !== undefined) return known
    const resource = recipe.resources[name]
    if (resource === undefined) return `missing:${name}`
    const uses: Record<string, string> = {}
    for (const [slot, used] of Object.entries(resource.uses)) uses[slot] = identity(used)
    const id = resourceIdentity({
      componentId: resource.componentId,
      version: resource.component.version ?? resource.plugin.packageVersion,
      rawOptions: resource.rawOptions,
      uses
    })
    identities.set(name, id)
    return id
  }

  const get = (owner: string, name: string): Effect.Effect<unknown, StageError> =>
    Effect.gen(function*() {
      if (made.has(name)) return made.get(name)
      const resource = yield* lookup(owner, name)
      const uses = yield* servicesFor(name, resource.uses)
      const startedAt = Date.now()
      events.write("resource_start", { resource: name, component: resource.componentId })
      const service = yield* resource.component.make({
        name,
        options: resource.options,
        seed: stageSeed(recipe.seed, `resource:${name}`),
        uses,
        events: events.sinkFor(name, "resource"),
        recipeDir,
        ...(cacheDir === undefined ? {} : { cacheDir })
      }).pipe(Scope.provide(scope))
      events.write("resource_ready", { resource: name, durationMs: Date.now() - startedAt })
      made.set(name, service)
      return service
    })

  const servicesFor = (owner: string, uses: Readonly<Record<string, string>>) =>
    Effect.gen(function*() {
      const services: Record<string, unknown> = {}
      for (const [slot, name] of Object.entries(uses)) services[slot] = yield* get(owner, name)
      return services
    })

  return { servicesFor, identity }
}
