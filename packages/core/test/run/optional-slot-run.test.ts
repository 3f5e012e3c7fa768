/** A stage sees `undefined` for an optional slot the recipe leaves out, and the service when it is connected. */
import { Effect, Schema } from "effect"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { defineStage, optionalSlot, runRecipe } from "../../src/index.ts"
import { Greeter, greeterLog, greeterResource, makeRecipe, readJsonl, tempDir } from "./fixtures.ts"

const maybeGreet = defineStage({
  role: "generator",
  description: "greets when a greeter is connected",
  options: Schema.Struct({}),
  uses: { greeter: optionalSlot(Greeter) },
  run: (ctx) => ctx.output.append([{ greeting: ctx.uses.greeter === undefined ? "(no greeter)" : ctx.uses.greeter.greeting }])
})

const runWith = async (uses: Record<string, string>) => {
  const recipe = makeRecipe({
    stages: { hello: { component: maybeGreet, uses } },
    resources: { greeter: { component: greeterResource, options: { word: "hi" } } }
  })
  const { runDir } = await Effect.runPromise(runRecipe(recipe, { runsDir: tempDir("runs"), cacheDir: tempDir("cache") }))
  return readJsonl(path.join(runDir, "stages/hello/records.jsonl"))
}

describe("optional slots at run time", () => {
  it("are undefined when left out (and the resource is never made), the service when connected", async () => {
    greeterLog.length = 0
    expect(await runWith({})).toEqual([{ greeting: "(no greeter)" }])
    expect(greeterLog).toEqual([])
    expect(await runWith({ greeter: "greeter" })).toEqual([{ greeting: "hi" }])
    expect(greeterLog).toEqual(["make greeter", "release greeter"])
  })
})
