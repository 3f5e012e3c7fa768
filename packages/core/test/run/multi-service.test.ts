/** Resources providing several services: slots for any of them share one made resource. */
import { Context, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { componentCatalog, defineResource, defineStage, describeComponent, manifestProblems, recipeJsonSchema, runRecipe } from "../../src/index.ts"
import { loadInvalid, loadValid } from "../recipe/support.ts"
import { makeRecipe, readJsonl, tempDir } from "./fixtures.ts"

const recipe = "valid/multi-service.yaml"

class A extends Context.Service<A, { readonly a: number }>()("test/A") {}
class B extends Context.Service<B, { readonly b: string }>()("test/B") {}

describe("multi-service resources", () => {
  it("satisfy a slot asking for any of their services", async () => {
    const resolved = await loadValid(recipe)
    expect(resolved.stages["speak"]!.uses).toEqual({ speaker: "policy" })
    expect(resolved.stages["count"]!.uses).toEqual({ tally: "policy" })
  })

  it("are still checked: a slot needing a service the resource lacks names what it provides", async () => {
    const error = await loadInvalid(recipe, { overrides: ["stages.speak.speaker=lone"] })
    expect(error.problems.map((problem) => problem.message)).toEqual([
      "stage \"speak\" (multi/speak): slot \"speaker\" needs a fixture/Speaker but resource \"lone\" (multi/tally) provides fixture/Tally"
    ])
  })

  it("are made once for two stages reading different services, sharing one object", async () => {
    const dir = tempDir("multi")
    const log = path.join(dir, "makes.log")
    const resolved = await loadValid(recipe, { overrides: [`resources.policy.log=${log}`] })
    const { runDir, manifest } = await Effect.runPromise(runRecipe(resolved, { runsDir: dir, cacheDir: path.join(dir, "cache") }))
    expect(manifest.status).toBe("completed")
    expect(fs.readFileSync(log, "utf8")).toBe("make policy\n")
    expect(readJsonl(path.join(runDir, "stages/speak/records.jsonl"))).toEqual([{ said: "> a" }, { said: "> b" }, { said: "> c" }])
    // The Tally seen by `count` is the Speaker's own counter: one object, not two loads.
    expect(readJsonl(path.join(runDir, "stages/count/records.jsonl"))).toEqual([{ spoken: 3 }])
  })

  it("are described with every service they provide", async () => {
    const resolved = await loadValid(recipe)
    const entry = componentCatalog(resolved.plugins).get("multi/both")!
    expect(describeComponent(entry)).toMatchObject({ provides: "fixture/Speaker, fixture/Tally", providesAll: ["fixture/Speaker", "fixture/Tally"] })
    expect(JSON.stringify(recipeJsonSchema(resolved.plugins))).toContain("Provides fixture/Speaker, fixture/Tally.")
  })

  it("must list at least one service key", () => {
    const resource = defineResource({ description: "x", provides: A, options: Schema.Struct({}), make: () => Effect.succeed({ a: 1 }) })
    const problems = manifestProblems({ name: "p", version: "1", components: { x: { ...resource, provides: [] } } })
    expect(problems).toEqual([expect.stringContaining("\"provides\" must be a service key (a Context.Service class) or a non-empty list of them")])
    expect(manifestProblems({ name: "p", version: "1", components: { x: { ...resource, provides: [A, B] } } })).toEqual([])
  })

  it("fail the stage, naming the missing service, when make returns too little", async () => {
    // @ts-expect-error make must return a Context holding both A and B
    const short = defineResource({
      description: "forgets B",
      provides: [A, B],
      options: Schema.Struct({}),
      make: () => Effect.succeed(Context.make(A, { a: 1 }))
    })
    const readB = defineStage({ role: "generator", description: "reads B", options: Schema.Struct({}), uses: { b: B }, run: (ctx) => ctx.output.append([{ b: ctx.uses.b.b }]) })
    const broken = makeRecipe({ stages: { read: { component: readB, uses: { b: "short" } } }, resources: { short: { component: short } } })
    const exit = await Effect.runPromiseExit(runRecipe(broken, { runsDir: tempDir("runs"), cacheDir: tempDir("cache") }))
    expect(exit._tag).toBe("Failure")
    expect(JSON.stringify(exit)).toContain("make did not return test/B although the component provides test/A, test/B")
  })
})
