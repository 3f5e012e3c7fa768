/**
 * Lazy resource instantiation. A resource (model, scorer, backend) is made the
 * first time a stage that actually runs needs it — cache hits need no model —
 * after the resources it uses, inside the run's scope, so its finalizers run
 * when the run ends, fails or is interrupted. A resource is made once per run
 * however many slots (and services) it serves.
 */
import { Context, Effect, Scope } from "effect"
import { providedKeys, slotService, type ResourceComponent, type ServiceKey, type Slots } from "../plugin/manifest.ts"
import type { ResolvedRecipe } from "../recipe/resolved.ts"
import { StageError } from "../stage/errors.ts"
import type { EventLog } from "./events.ts"
import { resourceIdentity } from "./hash.ts"
import { stageSeed } from "./seed.ts"

/** Resources of one run, made on demand. */
export interface ResourcePool {
  /**
   * The services for a component's slots (slot → resource name), making
   * resources as needed; `slots` (the component's `uses`) says which service
   * each slot wants from a resource that provides several.
   */
  readonly servicesFor: (
    owner: string,
    uses: Readonly<Record<string, string>>,
    slots?: Slots
  ) => Effect.Effect<Record<string, unknown>, StageError>
  /** Every service of a resource as a `Context`, making it if needed. */
  readonly contextOf: (owner: string, name: string) => Effect.Effect<Context.Context<never>, StageError>
  /** Identity hash of a resource (part of the cache key of the stages using it). */
  readonly identity: (name: string) => string
}

/** The `Context` of every service `make` returned, checked against `provides`. */
export const providedContext = (
  name: string,
  component: Pick<ResourceComponent, "provides">,
  made: unknown
): Effect.Effect<Context.Context<never>, StageError> => {
  if (!Array.isArray(component.provides)) return Effect.succeed(Context.make(component.provides as ServiceKey, made) as Context.Context<never>)
  const keys = providedKeys(component)
  const missing = Context.isContext(made) ? keys.filter((key) => Context.getOption(made, key)._tag === "None") : keys
  if (missing.length > 0) {
    return Effect.fail(new StageError({
      stage: `resource:${name}`,
      message: `make did not return ${missing.map((key) => key.key).join(", ")} although the component provides ${keys.map((key) => key.key).join(", ")}`,
      fix: "a resource with a list under provides must return a Context holding every listed service (a bug of the plugin: report it to its authors)"
    }))
  }
  return Effect.succeed(made as Context.Context<never>)
}

/** Creates the resource pool of a run; made resources live in `scope`. */
export const makeResourcePool = (
  recipe: ResolvedRecipe,
  events: EventLog,
  scope: Scope.Scope,
  recipeDir: string,
  cacheDir?: string
): ResourcePool => {
  const made = new Map<string, Context.Context<never>>()
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

  const contextOf = (owner: string, name: string): Effect.Effect<Context.Context<never>, StageError> =>
    Effect.gen(function*() {
      const known = made.get(name)
      if (known !== undefined) return known
      const resource = yield* lookup(owner, name)
      const uses = yield* servicesFor(name, resource.uses, resource.component.uses)
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
      const context = yield* providedContext(name, resource.component, service)
      events.write("resource_ready", { resource: name, durationMs: Date.now() - startedAt })
      made.set(name, context)
      return context
    })

  const serviceFor = (owner: string, name: string, wanted: ServiceKey | undefined) =>
    Effect.gen(function*() {
      const context = yield* contextOf(owner, name)
      const component = recipe.resources[name]!.component
      const key = wanted ?? providedKeys(component)[0]!
      return Context.getUnsafe(context, key)
    })

  const servicesFor = (owner: string, uses: Readonly<Record<string, string>>, slots?: Slots) =>
    Effect.gen(function*() {
      const services: Record<string, unknown> = {}
      for (const [slot, name] of Object.entries(uses)) {
        const spec = slots?.[slot]
        services[slot] = yield* serviceFor(owner, name, spec === undefined ? undefined : slotService(spec))
      }
      return services
    })

  return { servicesFor, contextOf, identity }
}
