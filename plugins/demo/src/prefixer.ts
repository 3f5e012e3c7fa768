/**
 * `demo/prefixer` (resource) and `demo/prefix` (stage): the smallest use of a
 * resource slot. The resource provides the `Prefixer` service (as a model
 * resource provides `LanguageModel`); its finalizer reports its release, so
 * tests can see resources being made lazily and released with the run.
 */
import { Context, Effect, Schema, Stream } from "effect"
import { defineResource, defineStage, type JsonRecord } from "@refine-af/core"

/** Prepends a fixed text. */
export class Prefixer extends Context.Service<Prefixer, {
  readonly apply: (text: string) => string
}>()("@refine-af/plugin-demo/Prefixer") {}

/** Options of `demo/prefixer`. */
export const PrefixerOptions = Schema.Struct({ prefix: Schema.String.annotate({ description: "Text put before every record's `text`." }) })

/** The `demo/prefixer` resource component. */
export const prefixer = defineResource({
  description: "Provides a Prefixer service that prepends `prefix`; emits resource_made / resource_released events.",
  provides: Prefixer,
  options: PrefixerOptions,
  make: (ctx) =>
    Effect.acquireRelease(
      Effect.as(ctx.events.emit("resource_made", { prefix: ctx.options.prefix }), { apply: (text: string) => `${ctx.options.prefix}${text}` }),
      () => ctx.events.emit("resource_released", {})
    )
})

/** The `demo/prefix` component: uses the `prefixer` slot. */
export const prefix = defineStage({
  role: "transform",
  description: "Prepends the prefix of its `prefixer` resource to each record's `text`.",
  deterministic: true,
  options: Schema.Struct({}),
  inputs: { records: { description: "records with a string `text` field" } },
  uses: { prefixer: Prefixer },
  run: (ctx) =>
    ctx.inputs["records"]!.records().pipe(
      Stream.drop(ctx.output.resumedCount),
      Stream.grouped(256),
      Stream.runForEach((group) =>
        ctx.output.append(group.map((record): JsonRecord => ({ ...record, text: ctx.uses.prefixer.apply(String(record["text"] ?? "")) })))
      )
    )
})
