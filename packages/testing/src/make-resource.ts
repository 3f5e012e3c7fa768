/**
 * Makes a resource component (a `Scorer`, a `Reward`, a model) the way a run does, for a unit
 * test: its options are written as in a recipe and decoded with its Schema (defaults filled,
 * unknown keys refused), path options resolved from `recipeDir`, and its events kept in memory.
 * The services live as long as the caller's scope.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Scorer } from "@refine-af/core"
 * import { makeResource } from "@refine-af/testing"
 * // const scores = Effect.runPromise(Effect.scoped(Effect.gen(function* () {
 * //   const { service } = yield* makeResource(keywords, { options: { keywords: ["apple"] } })
 * //   return yield* Context.get(service, Scorer).score([{ instruction: "i", input: "", output: "An apple." }])
 * // })))
 * ```
 */
import { Context, Effect } from "effect"
import type { ResourceComponent, StageInput } from "@refine-af/core"
import { memoryEvents, type RecordedEvent } from "./memory-stage.ts"
import { decodeComponentOptions, type OptionsInput } from "./run-stage.ts"

export interface ResourceFields<O> {
  /** Options as a recipe writes them. */
  readonly options: OptionsInput<O>
  /** Services of the resource's slots (`uses`), by slot name. */
  readonly uses?: Record<string, unknown>
  readonly name?: string
  readonly seed?: number
  readonly recipeDir?: string
  readonly cacheDir?: string
  readonly inputs?: Record<string, StageInput>
}

/**
 * The resource's service(s) as a `Context` (one service is wrapped in a Context too, under the
 * key it provides) and the events it emitted while being made.
 */
export const makeResource = <O, S>(resource: ResourceComponent<O, S, any>, fields: ResourceFields<O>) =>
  Effect.gen(function* () {
    const name = fields.name ?? "test-resource"
    const options = yield* decodeComponentOptions(resource.options, fields.options, name, fields.recipeDir)
    const sink = memoryEvents()
    const made = yield* resource.make({
      name,
      options,
      seed: fields.seed ?? 1234,
      uses: (fields.uses ?? {}) as never,
      events: sink,
      inputs: fields.inputs ?? {},
      ...(fields.recipeDir === undefined ? {} : { recipeDir: fields.recipeDir }),
      ...(fields.cacheDir === undefined ? {} : { cacheDir: fields.cacheDir })
    })
    // Any key: a test reads the services it knows the resource provides.
    const service: Context.Context<any> = Context.isContext(made)
      ? made as Context.Context<any>
      : Context.make(resource.provides as Context.Key<any, S>, made)
    return { service, events: sink.events as ReadonlyArray<RecordedEvent> }
  })
