import { Context, Effect, Exit, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeEach, describe, expect, it } from "vitest"
import { defineResource, defineStage, runRecipe, StageError, stageInputOf } from "../../src/index.ts"
import { counterStage, doubleStage, makeRecipe, readJsonl, tempDir } from "./fixtures.ts"

class Base extends Context.Service<Base, { readonly value: number }>()("test/Base") {}
class Derived extends Context.Service<Derived, { readonly value: number }>()("test/Derived") {}

const lifecycle: Array<string> = []

const baseResource = defineResource({
  description: "base",
  provides: Base,
  options: Schema.Struct({ value: Schema.Number }),
  make: (ctx) =>
    Effect.acquireRelease(
      Effect.sync(() => (lifecycle.push("make base"), { value: ctx.options.value })),
      () => Effect.sync(() => lifecycle.push("release base"))
    )
})

const derivedResource = defineResource({
  description: "derived from base",
  provides: Derived,
  options: Schema.Struct({}),
  uses: { base: Base },
  make: (ctx) =>
    Effect.acquireRelease(
      Effect.sync(() => (lifecycle.push("make derived"), { value: ctx.uses.base.value * 10 })),
      () => Effect.sync(() => lifecycle.push("release derived"))
    )
})

const readDerived = defineStage({
  role: "generator",
  description: "reads the derived service",
  options: Schema.Struct({}),
  uses: { derived: Derived },
  run: (ctx) => ctx.output.append([{ value: ctx.uses.derived.value }])
})

const recipeWith = (baseValue: number) =>
  makeRecipe({
    stages: { numbers: { component: counterStage, options: { count: 3 } }, read: { component: readDerived, uses: { derived: "derived" } } },
    resources: {
      base: { component: baseResource, options: { value: baseValue } },
      derived: { component: derivedResource, uses: { base: "base" } }
    }
  })

describe("resources", () => {
  beforeEach(() => {
    lifecycle.length = 0
  })

  it("makes dependencies first, only when a stage needs them, and releases in reverse order", async () => {
    const cacheDir = tempDir("cache")
    const { runDir } = await Effect.runPromise(runRecipe(recipeWith(4), { runsDir: tempDir("runs"), cacheDir }))
    expect(readJsonl(path.join(runDir, "stages/read/records.jsonl"))).toEqual([{ value: 40 }])
    expect(lifecycle).toEqual(["make base", "make derived", "release derived", "release base"])

    lifecycle.length = 0
    const changedBase = await Effect.runPromise(runRecipe(recipeWith(5), { runsDir: tempDir("runs"), cacheDir }))
    // The base's options are part of the identity of `derived`, hence of the stage's cache key.
    expect(changedBase.manifest.stages["numbers"]?.status).toBe("cached")
    expect(changedBase.manifest.stages["read"]?.status).toBe("completed")
    expect(readJsonl(path.join(changedBase.runDir, "stages/read/records.jsonl"))).toEqual([{ value: 50 }])
  })

  it("releases made resources when a later stage fails", async () => {
    const failing = defineStage({
      role: "transform",
      description: "fails",
      options: Schema.Struct({}),
      run: () => Effect.die(new Error("unexpected"))
    })
    const recipe = makeRecipe({
      stages: { read: { component: readDerived, uses: { derived: "derived" } }, boom: { component: failing } },
      resources: { base: { component: baseResource, options: { value: 1 } }, derived: { component: derivedResource, uses: { base: "base" } } }
    })
    const exit = await Effect.runPromiseExit(runRecipe(recipe, { runsDir: tempDir("runs"), cache: false }))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(lifecycle).toEqual(["make base", "make derived", "release derived", "release base"])
  })
})

describe("a resource that fails to build", () => {
  it("is named as a resource in the error (stage \"resource:<name>\"), with its message and fix", async () => {
    const broken = defineResource({
      description: "broken",
      provides: Base,
      options: Schema.Struct({}),
      make: (ctx) => Effect.fail(new StageError({ stage: ctx.name, message: "no device", fix: "install the driver" }))
    })
    const recipe = makeRecipe({ stages: { read: { component: readDerived, uses: { derived: "derived" } } }, resources: { base: { component: broken }, derived: { component: derivedResource, uses: { base: "base" } } } })
    const exit = await Effect.runPromiseExit(runRecipe(recipe, { runsDir: tempDir("runs"), cache: false }))
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause.reasons.find((reason) => reason._tag === "Fail") : undefined
    expect(error?._tag === "Fail" ? error.error : undefined).toMatchObject({ _tag: "StageError", stage: "resource:base", message: "no device", fix: "install the driver" })
  })
})

describe("corrupt upstream records", () => {
  it("are a RecordStreamError naming file:line when a stage reads them", async () => {
    const runsDir = tempDir("runs")
    const recipe = makeRecipe({
      stages: { numbers: { component: counterStage, options: { count: 5 } }, doubled: { component: doubleStage, inputs: { records: "numbers" } } }
    })
    const first = await Effect.runPromise(runRecipe(recipe, { runsDir, cache: false }))
    const file = path.join(first.runDir, "stages/numbers/records.jsonl")
    const lines = fs.readFileSync(file, "utf8").split("\n")
    lines[2] = "{oops"
    fs.writeFileSync(file, lines.join("\n"))
    const input = stageInputOf({ stage: "numbers", dir: path.dirname(file), hash: "x", count: 5 })
    const exit = await Effect.runPromiseExit(input.readAll())
    const error = Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error : undefined
    expect(error?._tag).toBe("RecordStreamError")
    expect(error?.message).toContain(`${file}:3`)
  })
})
