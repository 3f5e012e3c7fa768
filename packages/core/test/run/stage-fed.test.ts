/** Resources built from a stage's output: DAG nodes, made after the stage, identity from its output hash. */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { componentCatalog, describeComponent, recipeJsonSchema, runRecipe, type ResolvedRecipe } from "../../src/index.ts"
import { loadInvalid, loadValid } from "../recipe/support.ts"
import { readJsonl, tempDir } from "./fixtures.ts"

const recipe = "valid/stage-fed.yaml"

const messages = async (overrides: Array<string>) => (await loadInvalid(recipe, { overrides })).problems.map((problem) => problem.message)

describe("stage-fed resources in the recipe DAG", () => {
  it("order the stages so the feeding stage runs before any user of the resource", async () => {
    const resolved = await loadValid(recipe)
    expect(resolved.order).toEqual(["train", "speak"])
    expect(resolved.resources["tuned"]!.inputs).toEqual({ adapter: "train" })
    expect(resolved.resourceOrder).toEqual(["base", "tuned"])
  })

  it("report dangling references, unconnected ports and cycles through a resource", async () => {
    expect(await messages(["resources.tuned.adapter=trian"])).toEqual([
      "resource \"tuned\" (multi/adapted): input port \"adapter\" names stage \"trian\", which does not exist; did you mean \"train\"?"
    ])
    expect(await messages(["stages.train.helper=tuned"])).toEqual([
      "stages and resources form a cycle: resource tuned → stage train → resource tuned"
    ])
    // Feeding the resource from the very stage that uses it.
    expect(await messages(["resources.tuned.adapter=speak"])).toEqual([
      "stages and resources form a cycle: resource tuned → stage speak → resource tuned"
    ])
  })

  it("are described with their input ports", async () => {
    const resolved = await loadValid(recipe)
    const entry = componentCatalog(resolved.plugins).get("multi/adapted")!
    expect(describeComponent(entry).inputs).toEqual([{ name: "adapter", description: "the stage whose adapter.txt tunes the speaker", optional: false, list: false }])
    const schema = recipeJsonSchema(resolved.plugins) as { $defs: Record<string, { required: Array<string> }> }
    expect(schema.$defs["component.multi.adapted"]!.required).toContain("adapter")
  })
})

describe("stage-fed resources at run time", () => {
  const setup = async () => {
    const dir = tempDir("stage-fed")
    const log = path.join(dir, "makes.log")
    const load = (note: string) => loadValid(recipe, { overrides: [`resources.base.log=${log}`, `resources.tuned.log=${log}`, `stages.train.note=${note}`] })
    const run = async (resolved: ResolvedRecipe) => {
      const result = await Effect.runPromise(runRecipe(resolved, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache") }))
      return { ...result, said: readJsonl(path.join(result.runDir, "stages/speak/records.jsonl")) }
    }
    const makes = () => fs.readFileSync(log, "utf8").trim().split("\n")
    return { load, run, makes }
  }

  it("are rebuilt when the feeding stage re-runs and served from cache when it does not", async () => {
    const { load, run, makes } = await setup()
    const first = await run(await load("v1"))
    expect(first.said).toEqual([{ said: "[v1] > a" }])
    expect(makes()).toEqual(["make base", "make tuned v1"])
    // The run's manifest and report show resources as nodes: what they are built from and use.
    expect(first.manifest.resources!["tuned"]).toMatchObject({ componentId: "multi/adapted", builtFrom: ["train"], uses: ["base"], made: true })
    expect(fs.readFileSync(path.join(first.runDir, "report.md"), "utf8")).toMatch(/\|\s*tuned\s*\|\s*multi\/adapted\s*\|\s*train\s*\|\s*base\s*\|\s*yes\s*\|/)

    // Nothing changed: both stages are cache hits and no resource is made.
    const again = await run(await load("v1"))
    expect([again.manifest.stages["train"]!.status, again.manifest.stages["speak"]!.status]).toEqual(["cached", "cached"])
    expect(makes()).toEqual(["make base", "make tuned v1"])
    expect(again.manifest.resources!["tuned"]!.made).toBeUndefined()

    // The trainer's output changes: the adapter-fed resource is rebuilt and its user runs again.
    const retrained = await run(await load("v2"))
    expect([retrained.manifest.stages["train"]!.status, retrained.manifest.stages["speak"]!.status]).toEqual(["completed", "completed"])
    expect(retrained.said).toEqual([{ said: "[v2] > a" }])
    expect(makes()).toEqual(["make base", "make tuned v1", "make base", "make tuned v2"])
    expect(retrained.manifest.stages["speak"]!.cacheKey).not.toBe(first.manifest.stages["speak"]!.cacheKey)
  })
})
