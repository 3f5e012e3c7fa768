/**
 * Plugin manifests: a plugin is an npm package whose default export is
 * `definePlugin({ name, version, components })`. A recipe lists the plugins it
 * uses; components are named `<plugin name>/<component name>` in `_component_`.
 *
 * Two kinds of component:
 * - `stage` — a step of the run DAG (generator, trainer, evaluator, transform):
 *   reads upstream record streams through `inputs`, writes its own.
 * - `resource` — provides a service (`LanguageModel`, `Scorer`, `Backend`, ...)
 *   that stages and other resources use through named slots (`uses`).
 *
 * In a recipe node, input ports and resource slots are plain keys whose value is
 * a stage name / resource name; every other key (except `_component_`) is
 * decoded by the component's `options` Schema.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { definePlugin, defineStage } from "@refine-af/core"
 * export default definePlugin({
 *   name: "demo",
 *   version: "0.1.0",
 *   components: {
 *     echo: defineStage({
 *       role: "transform",
 *       description: "Copies its input records.",
 *       options: Schema.Struct({}),
 *       inputs: { records: { description: "records to copy" } },
 *       run: (ctx) => Effect.void
 *     })
 *   }
 * })
 * ```
 */
import type { Context, Effect, Schema, Scope } from "effect"
import type { EventSink, JsonRecord, StageContext, StageInput } from "../stage/context.ts"
import type { RecordStreamError, StageError } from "../stage/errors.ts"

/** Any service key (e.g. the `LanguageModel` class). */
export type ServiceKey = Context.Key<any, any>

/** A resource slot the recipe may leave unconnected (made with `optionalSlot`); the component then sees `undefined`. */
export interface OptionalSlot<K extends ServiceKey = ServiceKey> {
  readonly _tag: "OptionalSlot"
  readonly service: K
}

/**
 * Marks a slot optional: `uses: { model: optionalSlot(LanguageModel) }`. When
 * the recipe names a resource, it is checked like any slot; when it names none,
 * `ctx.uses.model` is `undefined`.
 */
export const optionalSlot = <K extends ServiceKey>(service: K): OptionalSlot<K> => ({ _tag: "OptionalSlot", service })

/** Resource slots a component asks for: slot name → service key (or `optionalSlot(key)`). */
export type Slots = Readonly<Record<string, ServiceKey | OptionalSlot>>

/** True when the slot was declared with `optionalSlot`. */
export const isOptionalSlot = (slot: ServiceKey | OptionalSlot): slot is OptionalSlot =>
  typeof slot === "object" && slot !== null && (slot as { _tag?: unknown })._tag === "OptionalSlot"

/** The service key a slot asks for, optional or not. */
export const slotService = (slot: ServiceKey | OptionalSlot): ServiceKey => isOptionalSlot(slot) ? slot.service : slot

/** The service implementations for a component's slots (`undefined` allowed for optional ones). */
export type SlotServices<U extends Slots> = { readonly [K in keyof U]: SlotServiceOf<U[K]> }

/** The service one slot gives (distributes over unions, so a generic `Slots` still type-checks). */
export type SlotServiceOf<S> = S extends OptionalSlot<infer K> ? Context.Service.Shape<K> | undefined
  : S extends ServiceKey ? Context.Service.Shape<S>
  : never

export type StageRole = "generator" | "trainer" | "evaluator" | "transform"

/** A schema that decodes a recipe node (unknown) into typed options. */
export type OptionsSchema<O> = Schema.Codec<O, any, never, never>

export interface InputPort {
  readonly description: string
  /** When true the recipe may leave the port unconnected. */
  readonly optional?: boolean
  /**
   * The record Schema the port expects. `validate` checks it against the
   * producing stage's `output` Schema when that is declared (fields missing or
   * of another type, at the port's line:column); at run time every record read
   * through the port is checked (an error names the stage, port, record index
   * and field).
   */
  readonly schema?: Schema.Top
  /**
   * When true the port takes a list of stages — `candidates: [eval_a, eval_b]`
   * (a single name is a one-element list) — read as `ctx.inputLists[port]`, in
   * the recipe's order. Each element is a DAG edge and enters the stage's
   * identity in order; a required list port needs at least one stage. Stage
   * components only.
   */
  readonly list?: boolean
}

export interface StageSummary {
  /** Final metrics recorded in the manifest and shown by `refine-af inspect`. */
  readonly metrics?: Readonly<Record<string, number>>
  readonly data?: JsonRecord
}

/**
 * What a comparison stage declares so that `refine-af compare` can compare
 * finished runs without naming any plugin component: which evaluation stages
 * it compares, and which stage of the same plugin imports another run's
 * finished evaluation (that importer takes the evaluation's stage folder as
 * its `stageDir` option). The comparison stage itself has the input ports
 * `baseline` (one stage) and `candidates` (a list port). Names are component
 * names within the same plugin (`"evaluate"`, not `"superni/evaluate"`).
 *
 * @example
 * ```ts
 * import type { ComparesDeclaration } from "@refine-af/core"
 * const compares: ComparesDeclaration = { evaluations: ["evaluate"], importer: "predictions" }
 * ```
 */
export interface ComparesDeclaration {
  /** The evaluation components whose finished stages this stage compares. */
  readonly evaluations: ReadonlyArray<string>
  /** The stage component importing a finished evaluation stage folder (option `stageDir`). */
  readonly importer: string
}

export interface StageComponent<O = any, U extends Slots = Slots> {
  readonly kind: "stage"
  readonly role: StageRole
  /** Set on a comparison stage: the evaluations it compares (used by `refine-af compare`). */
  readonly compares?: ComparesDeclaration
  readonly description: string
  /** Bump when the output for the same options changes; part of the cache key (default: the plugin's version, package.json's and `definePlugin`'s: `componentVersion`). */
  readonly version?: string
  /** True when the same options, inputs and seed always give the same output (resume then reproduces an uninterrupted run). */
  readonly deterministic?: boolean
  readonly options: OptionsSchema<O>
  readonly inputs?: Readonly<Record<string, InputPort>>
  /** The Schema of the records this stage writes (checked against typed input ports downstream). */
  readonly output?: Schema.Top
  readonly uses?: U
  /** May fail with `RecordStreamError` straight from `ctx.output` / `ctx.inputs` (no need to wrap it). */
  readonly run: (ctx: StageContext<O, SlotServices<U>>) => Effect.Effect<StageSummary | void, StageError | RecordStreamError, Scope.Scope>
}

export interface ResourceContext<O, U extends Slots> {
  readonly name: string
  readonly options: O
  readonly seed: number
  readonly uses: SlotServices<U>
  readonly events: EventSink
  /** Absolute folder of the recipe file, as in `StageContext.recipeDir` (resolve option paths with `resolveRecipePath`). */
  readonly recipeDir?: string
  /**
   * Finished outputs of the stages named by the resource's input ports (e.g. a
   * trainer's adapter folder in `inputs.adapter.dir`). Always set by a run and
   * by `openResources` (empty for a resource without ports); optional only so
   * that tests may call `make` with a hand-written context.
   */
  readonly inputs?: Readonly<Record<string, StageInput>>
  /**
   * The run's content-addressed cache folder, or undefined when caching is off
   * (`--no-cache`) or outside a run. Resources keep their own caches in a
   * subfolder named after themselves (e.g. scorers: `<cacheDir>/scores/`).
   */
  readonly cacheDir?: string
}

/** What a resource may declare under `provides`: one service key, or a list of them (one resource, several services). */
export type Provides = ServiceKey | ReadonlyArray<ServiceKey>

/**
 * What `make` returns for a `provides`: the service itself for one key; for a
 * list, an Effect `Context` holding an implementation of every listed service
 * (build it with `Context.make(A, a).pipe(Context.add(B, b))`).
 */
export type ProvidedServices<P> = P extends ReadonlyArray<infer K> ? Context.Context<K extends Context.Key<infer I, any> ? I : never>
  : P extends Context.Key<any, infer S> ? S
  : never

export interface ResourceComponent<O = any, S = any, U extends Slots = Slots> {
  readonly kind: "resource"
  readonly description: string
  readonly version?: string
  /**
   * The service this resource provides, or a list of services (`[LanguageModel, PolicyModel]`):
   * a slot asking for any of them is satisfied by this resource, which is made once per run.
   */
  readonly provides: Context.Key<any, S> | ReadonlyArray<ServiceKey>
  readonly options: OptionsSchema<O>
  readonly uses?: U
  /**
   * Input ports naming stages whose output the resource is built from (e.g.
   * `adapter: rlaf` for a base model plus a trained adapter). The resource is
   * then made after those stages complete, and their output hashes are part
   * of its identity, hence of every cache key downstream.
   */
  readonly inputs?: Readonly<Record<string, InputPort>>
  /**
   * Acquires the service (a `Context` of every service when `provides` is a
   * list); finalizers on the scope release it (sessions, device buffers, servers).
   */
  readonly make: (ctx: ResourceContext<O, U>) => Effect.Effect<S, StageError, Scope.Scope>
}

/** The service keys a resource provides, as a list. */
export const providedKeys = (component: Pick<ResourceComponent, "provides">): ReadonlyArray<ServiceKey> =>
  Array.isArray(component.provides) ? component.provides as ReadonlyArray<ServiceKey> : [component.provides as ServiceKey]

/** True when the resource provides the service `key`. */
export const providesService = (component: Pick<ResourceComponent, "provides">, key: ServiceKey): boolean =>
  providedKeys(component).some((provided) => provided.key === key.key)

export type Component = StageComponent<any, any> | ResourceComponent<any, any, any>

export interface PluginManifest {
  /** Short name used as the component prefix in recipes (`<name>/<component>`) and in every error. */
  readonly name: string
  readonly version: string
  readonly description?: string
  readonly components: Readonly<Record<string, Component>>
}

/** Identity helpers that give components precise types. */
export const definePlugin = (manifest: PluginManifest): PluginManifest => manifest

export const defineStage = <O, U extends Slots = {}>(
  component: Omit<StageComponent<O, U>, "kind">
): StageComponent<O, U> => ({ kind: "stage", ...component })

/**
 * Defines a resource component. With one service key under `provides`, `make`
 * returns that service; with a list, `make` returns a `Context` holding every
 * listed service, so one set of weights serves several contracts.
 *
 * @example
 * ```ts
 * import { Context, Effect, Schema } from "effect"
 * import { defineResource } from "@refine-af/core"
 * class Greeter extends Context.Service<Greeter, { readonly greet: (name: string) => string }>()("demo/Greeter") {}
 * class Counter extends Context.Service<Counter, { readonly count: () => number }>()("demo/Counter") {}
 * export const both = defineResource({
 *   description: "one object, two services",
 *   provides: [Greeter, Counter],
 *   options: Schema.Struct({}),
 *   make: () => {
 *     let calls = 0
 *     return Effect.succeed(
 *       Context.make(Greeter, { greet: (name: string) => (calls++, `hello ${name}`) }).pipe(
 *         Context.add(Counter, { count: () => calls })
 *       )
 *     )
 *   }
 * })
 * ```
 */
export function defineResource<O, const P extends ReadonlyArray<ServiceKey>, U extends Slots = {}>(
  component: Omit<ResourceComponent<O, ProvidedServices<P>, U>, "kind" | "provides"> & { readonly provides: P }
): ResourceComponent<O, ProvidedServices<P>, U>
export function defineResource<O, S, U extends Slots = {}>(
  component: Omit<ResourceComponent<O, S, U>, "kind" | "provides"> & { readonly provides: Context.Key<any, S> }
): ResourceComponent<O, S, U>
export function defineResource(component: Omit<ResourceComponent, "kind">): ResourceComponent {
  return { kind: "resource", ...component }
}
