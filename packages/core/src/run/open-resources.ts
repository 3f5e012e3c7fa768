/**
 * `openResources`: a recipe's resources outside a run — for a server
 * (`refine-af serve`), a notebook-style script or a test. The named resources
 * (and the resources they use) are made in the caller's `Scope` exactly as a
 * run would make them, and released when it closes. A resource built from a
 * stage's output (an adapter) needs `runDir`: a run of this recipe in which
 * that stage completed.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LanguageModel, loadRecipe, openResources } from "@refine-af/core"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const recipe = yield* loadRecipe("recipes/quickstart.yaml")
 *   const opened = yield* openResources(recipe, ["policy"])
 *   const lm = yield* opened.get("policy", LanguageModel)
 *   return yield* lm.countTokens("hello")
 * }))
 * ```
 */
import { Context, Effect, Scope } from "effect"
import * as path from "node:path"
import { providedKeys, type ServiceKey } from "../plugin/manifest.ts"
import type { ResolvedRecipe } from "../recipe/resolved.ts"
import { StageError } from "../stage/errors.ts"
import type { EventSink, JsonRecord } from "../stage/context.ts"
import { didYouMeanSuffix } from "../recipe/suggest.ts"
import type { RunDirInvalid } from "./errors.ts"
import type { EventLog } from "./events.ts"
import { makeResourcePool } from "./resources.ts"
import { recipeDirOf } from "./recipe-path.ts"
import { stageDirOf } from "./run-dir.ts"
import { readRunManifest } from "./runner.ts"
import type { StageOutput } from "./stage-input.ts"

/** Options of `openResources`. */
export interface OpenResourcesOptions {
  /** A run of this recipe: stage-fed resources read the finished stage outputs from it. */
  readonly runDir?: string
  /** Receives the resources' events (resource_start, warnings, progress, ...); default: dropped. */
  readonly onEvent?: (type: string, data: JsonRecord) => void
}

/** Resources opened outside a run. */
export interface OpenedResources {
  /** The names opened, in the order they were made. */
  readonly names: ReadonlyArray<string>
  /** Every service of an opened resource, as a `Context`. */
  readonly context: (name: string) => Context.Context<never>
  /** One service of an opened resource; fails naming what it does provide. */
  readonly get: <K extends ServiceKey>(name: string, service: K) => Effect.Effect<Context.Service.Shape<K>, StageError>
}

const eventLogOf = (onEvent: OpenResourcesOptions["onEvent"]): Pick<EventLog, "write" | "sinkFor"> => {
  const write = (type: string, data: Record<string, unknown> = {}) => onEvent?.(type, data as JsonRecord)
  const sinkFor = (source: string): EventSink => ({
    progress: (done, total) => Effect.sync(() => write("progress", { resource: source, done, total })),
    metric: (name, value, step) => Effect.sync(() => write("metric", { resource: source, name, value, step })),
    warn: (message) => Effect.sync(() => write("warning", { resource: source, message })),
    emit: (type, data) => Effect.sync(() => write(type, { ...data, resource: source }))
  })
  return { write, sinkFor }
}

/** Finished stage outputs of a run directory (completed or cached stages). */
const runOutputs = (runDir: string): Effect.Effect<{ readonly outputs: Map<string, StageOutput>; readonly recipeDir: string }, RunDirInvalid> =>
  Effect.map(readRunManifest(runDir), (manifest) => {
    const outputs = new Map<string, StageOutput>()
    for (const [stage, entry] of Object.entries(manifest.stages)) {
      if ((entry.status === "completed" || entry.status === "cached") && entry.outputHash !== undefined) {
        outputs.set(stage, { stage, dir: stageDirOf(path.resolve(runDir), stage), hash: entry.outputHash, count: entry.records ?? 0 })
      }
    }
    return { outputs, recipeDir: recipeDirOf(manifest) }
  })

/** Makes the resources `names` of `recipe` (and what they use) in the current scope. */
export const openResources = (
  recipe: ResolvedRecipe,
  names: ReadonlyArray<string>,
  options: OpenResourcesOptions = {}
): Effect.Effect<OpenedResources, StageError | RunDirInvalid, Scope.Scope> =>
  Effect.gen(function*() {
    const known = Object.keys(recipe.resources)
    for (const name of names) {
      if (recipe.resources[name] === undefined) {
        return yield* new StageError({
          stage: `resource:${name}`,
          message: `recipe "${recipe.name}" has no resource "${name}"${didYouMeanSuffix(name, known)}`,
          fix: known.length === 0 ? "the recipe defines no resources" : `resources are: ${known.join(", ")}`
        })
      }
    }
    const fromRun = options.runDir === undefined ? undefined : yield* runOutputs(options.runDir)
    const pool = makeResourcePool({
      recipe,
      events: eventLogOf(options.onEvent),
      scope: yield* Effect.scope,
      recipeDir: fromRun?.recipeDir ?? path.dirname(recipe.file),
      outputs: fromRun?.outputs ?? new Map()
    })
    const contexts = new Map<string, Context.Context<never>>()
    for (const name of names) contexts.set(name, yield* pool.contextOf("openResources", name))
    const context = (name: string): Context.Context<never> => {
      const found = contexts.get(name)
      if (found === undefined) throw new Error(`resource "${name}" was not opened (opened: ${[...contexts.keys()].join(", ")})`)
      return found
    }
    const get = <K extends ServiceKey>(name: string, service: K): Effect.Effect<Context.Service.Shape<K>, StageError> =>
      Effect.suspend(() => {
        const found = contexts.get(name)
        const option = found === undefined ? undefined : Context.getOption(found, service)
        if (option !== undefined && option._tag === "Some") return Effect.succeed(option.value as Context.Service.Shape<K>)
        const provided = recipe.resources[name] === undefined ? [] : providedKeys(recipe.resources[name]!.component).map((key) => key.key)
        return Effect.fail(new StageError({
          stage: `resource:${name}`,
          message: found === undefined
            ? `resource "${name}" was not opened`
            : `resource "${name}" does not provide ${service.key} (it provides ${provided.join(", ")})`,
          fix: found === undefined ? `open it: openResources(recipe, [..., "${name}"])` : "ask for a service it provides, or open another resource"
        }))
      })
    return { names: [...contexts.keys()], context, get }
  })
