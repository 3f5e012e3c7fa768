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
import type { EventSink, JsonRecord, StageContext } from "../stage/context.ts"
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
}

export interface StageSummary {
  /** Final metrics recorded in the manifest and shown by `refine-af inspect`. */
  readonly metrics?: Readonly<Record<string, number>>
  readonly data?: JsonRecord
}

export interface StageComponent<O = any, U extends Slots = Slots> {
  readonly kind: "stage"
  readonly role: StageRole
  readonly description: string
  /** Bump when the output for the same options changes; part of the cache key (defaults to the plugin version). */
  readonly version?: string
  /** True when the same options, inputs and seed always give the same output (resume then reproduces an uninterrupted run). */
  readonly deterministic?: boolean
  readonly options: OptionsSchema<O>
  readonly inputs?: Readonly<Record<string, InputPort>>
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
   * The run's content-addressed cache folder, or undefined when caching is off
   * (`--no-cache`) or outside a run. Resources keep their own caches in a
   * subfolder named after themselves (e.g. scorers: `<cacheDir>/scores/`).
   */
  readonly cacheDir?: string
}

export interface ResourceComponent<O = any, S = any, U extends Slots = Slots> {
  readonly kind: "resource"
  readonly description: string
  readonly version?: string
  /** The service this resource provides. */
  readonly provides: Context.Key<any, S>
  readonly options: OptionsSchema<O>
  readonly uses?: U
  /** Acquires the service; finalizers on the scope release it (sessions, device buffers, servers). */
  readonly make: (ctx: ResourceContext<O, U>) => Effect.Effect<S, StageError, Scope.Scope>
}

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

export const defineResource = <O, S, U extends Slots = {}>(
  component: Omit<ResourceComponent<O, S, U>, "kind">
): ResourceComponent<O, S, U> => ({ kind: "resource", ...component })
