/**
 * Lazy resource instantiation. A resource (model, scorer, backend) is made the
 * first time a stage that actually runs needs it — cache hits need no model —
 * after the resources it uses and the stages it is built from, inside the
 * run's scope, so its finalizers run when the run ends, fails or is
 * interrupted. A resource is made once per run however many slots (and
 * services) it serves.
 */
import { Context, Effect, Scope } from "effect"
import { providedKeys, slotService, type ResourceComponent, type ServiceKey, type Slots } from "../plugin/manifest.ts"
import { componentVersion, type ResolvedRecipe } from "../recipe/resolved.ts"
import { StageError } from "../stage/errors.ts"
import type { StageInput } from "../stage/context.ts"
import type { EventLog } from "./events.ts"
import { resolvePathOptions } from "../plugin/path-option.ts"
import { contentsPart, optionContents } from "./content-id.ts"
import { resourceIdentity } from "./hash.ts"
import { stageSeed } from "./seed.ts"
import { stageInputOf, type StageOutput } from "./stage-input.ts"

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

/** What a resource pool reads from its run (or from `openResources`). */
export interface ResourcePoolEnv {
  readonly recipe: ResolvedRecipe
  readonly events: Pick<EventLog, "write" | "sinkFor">
  /** Where made resources live: their finalizers run when it closes. */
  readonly scope: Scope.Scope
  readonly recipeDir: string
  /** Finished stage outputs so far (stage-fed resources read theirs from here). */
  readonly outputs: ReadonlyMap<string, StageOutput>
  /** Called once a resource is made, with its identity (the runner records it in the manifest). */
  readonly onMade?: (name: string, identity: string) => void
  /** The run's cache folder (`ResourceContext.cacheDir`); undefined when caching is off. */
  readonly cacheDir?: string
}

/** Creates the resource pool of a run; made resources live in `env.scope`. */
export const makeResourcePool = (env: ResourcePoolEnv): ResourcePool => {
  const { recipe, events, scope, recipeDir, outputs, cacheDir } = env
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
    const inputs: Record<string, string> = {}
    for (const [port, stage] of Object.entries(resource.inputs ?? {})) inputs[port] = outputs.get(stage)?.hash ?? `missing:${stage}`
    const id = resourceIdentity({
      componentId: resource.componentId,
      version: componentVersion(resource),
      rawOptions: resource.rawOptions,
      uses,
      ...(Object.keys(inputs).length > 0 ? { inputs } : {}),
      ...contentsPart(optionContents(resource.component.options, resource.options, recipeDir, cacheDir))
    })
    // Not final until every stage it is built from has finished.
    if (!Object.values(inputs).some((hash) => hash.startsWith("missing:"))) identities.set(name, id)
    return id
  }

  const stageInputs = (name: string, ports: Readonly<Record<string, string>>) =>
    Effect.gen(function*() {
      const inputs: Record<string, StageInput> = {}
      for (const [port, stage] of Object.entries(ports)) {
        const output = outputs.get(stage)
        if (output === undefined) {
          return yield* new StageError({
            stage: `resource:${name}`,
            message: `is built from the output of stage "${stage}" (port "${port}"), which has not finished`,
            fix: `run the recipe so that "${stage}" completes (outside a run, open the resource with the run directory that holds it)`
          })
        }
        inputs[port] = stageInputOf(output)
      }
      return inputs
    })

  const contextOf = (owner: string, name: string): Effect.Effect<Context.Context<never>, StageError> =>
    Effect.gen(function*() {
      const known = made.get(name)
      if (known !== undefined) return known
      const resource = yield* lookup(owner, name)
      const inputs = yield* stageInputs(name, resource.inputs ?? {})
      const uses = yield* servicesFor(name, resource.uses, resource.component.uses)
      const startedAt = Date.now()
      events.write("resource_start", { resource: name, component: resource.componentId, identity: identity(name) })
      const service = yield* resource.component.make({
        name,
        options: resolvePathOptions(resource.component.options, resource.options, recipeDir),
        seed: stageSeed(recipe.seed, `resource:${name}`),
        uses,
        inputs,
        events: events.sinkFor(name, "resource"),
        recipeDir,
        ...(cacheDir === undefined ? {} : { cacheDir })
      }).pipe(
        Scope.provide(scope),
        // A resource's own failure names it as a resource (components fill `stage` with ctx.name).
        Effect.mapError((error) => (error.stage === name ? new StageError({ stage: `resource:${name}`, message: error.message, ...(error.fix === undefined ? {} : { fix: error.fix }) }) : error))
      )
      const context = yield* providedContext(name, resource.component, service)
      events.write("resource_ready", { resource: name, durationMs: Date.now() - startedAt })
      made.set(name, context)
      env.onMade?.(name, identity(name))
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
