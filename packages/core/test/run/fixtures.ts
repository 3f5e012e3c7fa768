/**
 * Test fixtures: ResolvedRecipe values built directly (no YAML, no plugin
 * loading) from small in-test components.
 */
import { Context, Effect, Schema, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import {
  defineResource,
  defineStage,
  type JsonRecord,
  type LoadedPlugin,
  type ResolvedRecipe,
  type ResolvedResource,
  type ResolvedStage,
  type ResourceComponent,
  type StageComponent
} from "../../src/index.ts"

export const testPlugin: LoadedPlugin = {
  specifier: "test-plugin",
  packageName: "test-plugin",
  packageVersion: "1.0.0",
  manifest: { name: "t", version: "1.0.0", components: {} }
}

export interface StageSpec {
  readonly component: StageComponent<any, any>
  readonly options?: JsonRecord
  readonly inputs?: Record<string, string>
  readonly uses?: Record<string, string>
}

export interface ResourceSpec {
  readonly component: ResourceComponent<any, any, any>
  readonly options?: JsonRecord
  readonly uses?: Record<string, string>
  readonly inputs?: Record<string, string>
}

/** A resolved recipe with stages in the given (already topological) order. */
export const makeRecipe = (spec: {
  readonly name?: string
  readonly seed?: number
  readonly stages: Record<string, StageSpec>
  readonly resources?: Record<string, ResourceSpec>
}): ResolvedRecipe => {
  const stages: Record<string, ResolvedStage> = {}
  for (const [name, stage] of Object.entries(spec.stages)) {
    stages[name] = {
      name,
      componentId: `t/${name}`,
      plugin: testPlugin,
      component: stage.component,
      options: stage.options ?? {},
      rawOptions: stage.options ?? {},
      uses: stage.uses ?? {},
      inputs: stage.inputs ?? {}
    }
  }
  const resources: Record<string, ResolvedResource> = {}
  for (const [name, resource] of Object.entries(spec.resources ?? {})) {
    resources[name] = {
      name,
      componentId: `t/${name}`,
      plugin: testPlugin,
      component: resource.component,
      options: resource.options ?? {},
      rawOptions: resource.options ?? {},
      uses: resource.uses ?? {},
      inputs: resource.inputs ?? {}
    }
  }
  return {
    file: "/nonexistent/recipe.yaml",
    name: spec.name ?? "test",
    seed: spec.seed ?? 7,
    plugins: [testPlugin],
    resources,
    stages,
    order: Object.keys(stages),
    resourceOrder: Object.keys(resources),
    document: { name: spec.name ?? "test", seed: spec.seed ?? 7 }
  }
}

/** Emits `count` records `{ i, value }` (value from the seed), resuming after committed ones; optional per-record delay. */
export const counterStage = defineStage({
  role: "generator",
  description: "emits numbered records",
  deterministic: true,
  options: Schema.Struct({ count: Schema.Number, delayMs: Schema.optionalKey(Schema.Number) }),
  run: (ctx) =>
    Effect.gen(function*() {
      for (let i = ctx.output.resumedCount; i < ctx.options.count; i++) {
        if (ctx.options.delayMs) yield* Effect.sleep(ctx.options.delayMs)
        yield* ctx.output.append([{ i, value: (ctx.seed + i * 7919) % 1000 }])
        yield* ctx.events.progress(i + 1, ctx.options.count)
      }
      return { metrics: { emitted: ctx.options.count } }
    })
})

/** Doubles `value` of every input record. */
export const doubleStage = defineStage({
  role: "transform",
  description: "doubles values",
  deterministic: true,
  options: Schema.Struct({ factor: Schema.optionalKey(Schema.Number) }),
  inputs: { records: { description: "numbers" } },
  run: (ctx) =>
    ctx.inputs["records"]!.records().pipe(
      Stream.drop(ctx.output.resumedCount),
      Stream.runForEach((record) => ctx.output.append([{ ...record, value: Number(record["value"]) * (ctx.options.factor ?? 2) }]))
    )
})

/** Sums `value` of its input into a metric and a `sum.txt` artifact. */
export const sumStage = defineStage({
  role: "evaluator",
  description: "sums values",
  options: Schema.Struct({}),
  inputs: { records: { description: "numbers" } },
  run: (ctx) =>
    Effect.gen(function*() {
      const records = yield* ctx.inputs["records"]!.readAll()
      const sum = records.reduce((acc, record) => acc + Number(record["value"]), 0)
      fs.writeFileSync(path.join(ctx.dir, "sum.txt"), String(sum))
      return { metrics: { sum }, data: { count: records.length } }
    })
})

/** A service provided by the test resource. */
export class Greeter extends Context.Service<Greeter, { readonly greeting: string }>()("test/Greeter") {}

/** Lifecycle log of `greeterResource` (made / released). */
export const greeterLog: Array<string> = []

export const greeterResource = defineResource({
  description: "greets",
  provides: Greeter,
  options: Schema.Struct({ word: Schema.String }),
  make: (ctx) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        greeterLog.push(`make ${ctx.name}`)
        return { greeting: ctx.options.word }
      }),
      () => Effect.sync(() => greeterLog.push(`release ${ctx.name}`))
    )
})

/** Emits one record with the greeting of its `greeter` slot. */
export const greetStage = defineStage({
  role: "generator",
  description: "uses a resource",
  options: Schema.Struct({}),
  uses: { greeter: Greeter },
  run: (ctx) => ctx.output.append([{ greeting: ctx.uses.greeter.greeting }])
})

/** A fresh temporary folder. */
export const tempDir = (prefix: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `refine-af-${prefix}-`))

/** The parsed lines of a JSONL file. */
export const readJsonl = (file: string): Array<Record<string, unknown>> =>
  fs.readFileSync(file, "utf8").split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line))
