/**
 * List-valued input ports (`InputPort.list`): validation (element index and
 * line:column in every problem), DAG edges for each element, the stage's
 * identity (each element's output hash, in order), the run-time read order,
 * and the manifest entry `inspect --json` shows.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { componentCatalog, describeComponent, loadRecipe, recipeJsonSchema, runRecipe, type RecipeInvalid } from "../../src/index.ts"
import { fixturesDir } from "../recipe/support.ts"
import { tempDir } from "./fixtures.ts"

const recipeText = (parts: string, words: { a: string; b: string; c: string } = { a: "x", b: "y", c: "z" }) => `name: lists
plugins: [${path.join(fixturesDir, "plugins/multi")}]
resources:
  base:
    _component_: multi/both
    log: makes.log
stages:
  a:
    _component_: multi/speak
    speaker: base
    words: [${words.a}]
  b:
    _component_: multi/speak
    speaker: base
    words: [${words.b}, ${words.b}]
  c:
    _component_: multi/speak
    speaker: base
    words: [${words.c}, ${words.c}, ${words.c}]
  gather:
    _component_: multi/gather
    parts: ${parts}
`

const write = (dir: string, text: string) => {
  fs.writeFileSync(path.join(dir, "recipe.yaml"), text)
  return path.join(dir, "recipe.yaml")
}

const problemsOf = async (parts: string) => {
  const dir = tempDir("list-ports")
  const error = await Effect.runPromise(Effect.flip(loadRecipe(write(dir, recipeText(parts))))) as RecipeInvalid
  return error.problems.map((problem) => `${problem.line}:${problem.column} ${problem.message}`)
}

describe("list input ports", () => {
  it("read three candidates in the recipe's order, each an edge of the DAG, and record them in the manifest", async () => {
    const dir = tempDir("list-ports")
    // gather is written last but names c before a: the DAG orders every listed stage before it.
    const recipe = await Effect.runPromise(loadRecipe(write(dir, recipeText("[c, a, b]"))))
    expect(recipe.stages["gather"]!.inputLists).toEqual({ parts: ["c", "a", "b"] })
    expect(recipe.order.indexOf("gather")).toBe(3)
    const { manifest } = await Effect.runPromise(runRecipe(recipe, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache"), runId: "r" }))
    expect(manifest.stages["gather"]!.status).toBe("completed")
    expect(manifest.stages["gather"]!.inputs).toEqual({ parts: ["c", "a", "b"] })
    const records = fs.readFileSync(path.join(dir, "runs/r/stages/gather/records.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line))
    expect(records).toEqual([{ stage: "c", records: 3 }, { stage: "a", records: 1 }, { stage: "b", records: 2 }])
  })

  it("are described as list ports, and the editor schema takes a list of names", async () => {
    const dir = tempDir("list-ports")
    const recipe = await Effect.runPromise(loadRecipe(write(dir, recipeText("[a]"))))
    const entry = componentCatalog(recipe.plugins).get("multi/gather")!
    expect(describeComponent(entry).inputs).toEqual([
      { name: "parts", description: "the stages to gather", optional: false, list: true },
      { name: "extra", description: "more stages", optional: true, list: true }
    ])
    const schema = recipeJsonSchema(recipe.plugins) as { $defs: Record<string, { properties: Record<string, { anyOf?: Array<{ type: string }> }> }> }
    expect(schema.$defs["component.multi.gather"]!.properties["parts"]!.anyOf!.map((member) => member.type)).toEqual(["array", "string"])
  })

  it("name the element index of a missing, repeated or non-string stage, at its line:column", async () => {
    expect(await problemsOf("[a, nope, a, 3]")).toEqual([
      "22:16 stage \"gather\" (multi/gather): input port \"parts\"[1] names stage \"nope\", which does not exist",
      "22:22 stage \"gather\" (multi/gather): input port \"parts\"[2] names stage \"a\" again (it is [0] too)",
      "22:25 stage \"gather\" (multi/gather): input port \"parts\"[3] takes a stage name, got number 3"
    ])
  })

  it("reject an empty list and a mapping, and check each element against the port's record Schema", async () => {
    expect(await problemsOf("[]")).toEqual(["22:12 stage \"gather\" (multi/gather): input port \"parts\" lists no stage"])
    expect(await problemsOf("{x: a}")).toEqual(["22:12 stage \"gather\" (multi/gather): input port \"parts\" takes a list of stage names, got a mapping"])
    const dir = tempDir("list-ports")
    const text = recipeText("[a, wrong]").replace("  gather:", "  wrong:\n    _component_: multi/needs-said\n    records: a\n  gather:")
    const error = await Effect.runPromise(Effect.flip(loadRecipe(write(dir, text)))) as RecipeInvalid
    expect(error.problems.map((problem) => problem.message)).toEqual([
      "stage \"gather\" (multi/gather): input port \"parts[1]\" needs records with field \"said\" (string), but stage \"wrong\" does not write it"
    ])
  })

  it("report a cycle through a list element", async () => {
    const dir = tempDir("list-ports")
    const text = recipeText("[a, b]").replace("  a:\n    _component_: multi/speak\n    speaker: base\n    words: [x]", "  a:\n    _component_: multi/needs-said\n    records: gather")
    const error = await Effect.runPromise(Effect.flip(loadRecipe(write(dir, text)))) as RecipeInvalid
    expect(error.problems.map((problem) => problem.message)).toContainEqual(expect.stringMatching(/stages form a cycle: (a → gather → a|gather → a → gather)/))
  })

  it("key the stage on each element's output hash in order: same lists hit the cache, a reorder or a changed element re-runs", async () => {
    const dir = tempDir("list-ports")
    const options = { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache") }
    const run = async (parts: string, words?: { a: string; b: string; c: string }) => {
      const recipe = await Effect.runPromise(loadRecipe(write(dir, recipeText(parts, words))))
      const { manifest } = await Effect.runPromise(runRecipe(recipe, options))
      return manifest.stages["gather"]!
    }
    const first = await run("[a, b, c]")
    expect(first.status).toBe("completed")
    const again = await run("[a, b, c]")
    expect(again.status).toBe("cached")
    expect(again.cacheKey).toBe(first.cacheKey)
    const reordered = await run("[b, a, c]")
    expect(reordered.status).toBe("completed")
    expect(reordered.cacheKey).not.toBe(first.cacheKey)
    const changed = await run("[a, b, c]", { a: "x", b: "y", c: "w" })
    expect(changed.status).toBe("completed")
    expect(new Set([first.cacheKey, reordered.cacheKey, changed.cacheKey]).size).toBe(3)
  })
})
