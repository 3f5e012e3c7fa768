/** Identity follows content: path options are resolved from the recipe folder, checked, and hashed into cache keys. */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { contentHashCount, contentId, loadRecipe, pathOptions, RecipePath, resolvePathOptions, runRecipe, type RecipeInvalid } from "../../src/index.ts"
import { fixturesDir } from "../recipe/support.ts"
import { readJsonl, tempDir } from "./fixtures.ts"

const recipeText = `# a model folder and a data file next to the recipe
name: content
plugins: [${path.join(fixturesDir, "plugins/multi")}]
resources:
  model:
    _component_: multi/loaded
    path: model
stages:
  data:
    _component_: multi/readfile
    data: data.txt
  speak:
    _component_: multi/speak
    speaker: model
    words: [a]
`

const setup = () => {
  const dir = tempDir("content")
  fs.mkdirSync(path.join(dir, "model"))
  fs.writeFileSync(path.join(dir, "model/weights.txt"), "w1")
  fs.writeFileSync(path.join(dir, "data.txt"), "one\ntwo\n")
  fs.writeFileSync(path.join(dir, "recipe.yaml"), recipeText)
  const elsewhere = tempDir("cwd")
  const run = async () => {
    // Loaded from another working directory: relative paths still mean "next to the recipe".
    const recipe = await Effect.runPromise(loadRecipe(path.join(dir, "recipe.yaml"), { cwd: elsewhere }))
    const result = await Effect.runPromise(runRecipe(recipe, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache") }))
    const status = (stage: string) => result.manifest.stages[stage]!.status
    return { ...result, statuses: [status("data"), status("speak")], records: (stage: string) => readJsonl(path.join(result.runDir, "stages", stage, "records.jsonl")) }
  }
  return { dir, run }
}

describe("identity follows content", () => {
  it("re-runs the stages depending on a file overwritten at the same path, and only those", async () => {
    const { dir, run } = setup()
    const first = await run()
    expect(first.statuses).toEqual(["completed", "completed"])
    expect(first.records("speak")).toEqual([{ said: "w1:a" }])
    // The component received the path resolved from the recipe folder.
    expect(first.records("data")).toEqual([{ line: "one", from: path.join(dir, "data.txt") }, { line: "two", from: path.join(dir, "data.txt") }])

    const hashesBefore = contentHashCount.value
    const unchanged = await run()
    expect(unchanged.statuses).toEqual(["cached", "cached"])
    // Nothing changed on disk: the size+mtime fast path answers, no file is hashed again.
    expect(contentHashCount.value).toBe(hashesBefore)

    fs.writeFileSync(path.join(dir, "model/weights.txt"), "w2")
    const newWeights = await run()
    expect(newWeights.statuses).toEqual(["cached", "completed"])
    expect(newWeights.records("speak")).toEqual([{ said: "w2:a" }])

    fs.writeFileSync(path.join(dir, "data.txt"), "three\n")
    const newData = await run()
    expect(newData.statuses).toEqual(["completed", "cached"])
    expect(newData.records("data").map((record) => record["line"])).toEqual(["three"])
  })

  it("is checked by validate: a missing file or a folder where a file is expected, at line:column with the absolute path", async () => {
    const { dir } = setup()
    fs.rmSync(path.join(dir, "data.txt"))
    const problems = async (overrides: Array<string>) => {
      const error = await Effect.runPromise(Effect.flip(loadRecipe(path.join(dir, "recipe.yaml"), { overrides }))) as RecipeInvalid
      return error.problems.map((problem) => `${problem.line}:${problem.column} ${problem.message} — ${problem.fix}`)
    }
    expect(await problems([])).toEqual([
      `11:11 stage "data" (multi/readfile): option "data" names ${path.join(dir, "data.txt")}, which does not exist — create the file or fix the path (relative paths start at the recipe's folder, ${dir})`
    ])
    fs.writeFileSync(path.join(dir, "data.txt"), "x\n")
    expect(await problems(["resources.model.path=data.txt", "stages.data.data=model"])).toEqual([
      expect.stringContaining(`resource "model" (multi/loaded): option "path" must name a folder, but ${path.join(dir, "data.txt")} is a file`),
      expect.stringContaining(`stage "data" (multi/readfile): option "data" must name a file, but ${path.join(dir, "model")} is a folder`)
    ])
    // A device is not a regular file (reading /dev/zero never ends).
    expect(await problems(["stages.data.data=/dev/zero"])).toEqual([
      expect.stringContaining(`stage "data" (multi/readfile): option "data" names /dev/zero, which is a device, socket or pipe, not a regular file — name a regular file`)
    ])
  })

  it("runs the component's check of what an existing path holds (validate refuses it, exit 2, before anything is made)", async () => {
    const { dir } = setup()
    fs.rmSync(path.join(dir, "model/weights.txt"))
    const error = await Effect.runPromise(Effect.flip(loadRecipe(path.join(dir, "recipe.yaml")))) as RecipeInvalid
    expect(error.problems.map((problem) => `${problem.line}:${problem.column} ${problem.message} — ${problem.fix}`)).toEqual([
      `7:11 resource "model" (multi/loaded): option "path": ${path.join(dir, "model")} holds no weights.txt — write weights.txt into the folder`
    ])
  })
})

describe("RecipePath options", () => {
  const schema = Schema.Struct({
    model: RecipePath("dir"),
    lora: Schema.optional(RecipePath("dir")),
    nested: Schema.optionalKey(Schema.Struct({ files: Schema.Array(RecipePath("file")) })),
    name: Schema.String
  })

  it("are found in structs, optional values and arrays, and resolved from the recipe folder", () => {
    const value = { model: "m", nested: { files: ["a.txt", "/abs/b.txt"] }, name: "not a path" }
    expect(pathOptions(schema, value, "/r").map((option) => [option.at.join("."), option.kind, option.absolute])).toEqual([
      ["model", "dir", "/r/m"],
      ["nested.files.0", "file", "/r/a.txt"],
      ["nested.files.1", "file", "/abs/b.txt"]
    ])
    expect(resolvePathOptions(schema, { ...value, lora: "l" }, "/r")).toEqual({ model: "/r/m", lora: "/r/l", nested: { files: ["/r/a.txt", "/abs/b.txt"] }, name: "not a path" })
  })

  it("hash content, not names: a folder's id changes with any file in it", () => {
    const dir = tempDir("ids")
    fs.writeFileSync(path.join(dir, "a"), "1")
    const before = contentId(dir)
    expect(contentId(dir)).toBe(before)
    fs.writeFileSync(path.join(dir, "b"), "2")
    const added = contentId(dir)
    expect(added).not.toBe(before)
    fs.writeFileSync(path.join(dir, "a"), "3")
    expect(contentId(dir)).not.toBe(added)
    expect(contentId(path.join(dir, "absent"))).toBe("missing")
  })
})
