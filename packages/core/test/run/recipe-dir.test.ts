/**
 * Relative option paths resolve from the recipe's folder (not the cwd), and a
 * resumed run keeps the folder of the ORIGINAL recipe, not of its copy in the run.
 */
import { Context, Effect, Exit, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { defineResource, defineStage, resolveRecipePath, resumeRun, runRecipe, StageError } from "../../src/index.ts"
import { makeRecipe, tempDir } from "./fixtures.ts"

class FileText extends Context.Service<FileText, { readonly text: string }>()("test/FileText") {}

const readText = (file: string) => fs.readFileSync(file, "utf8").trim()

const fileResource = defineResource({
  description: "reads a file named relative to the recipe",
  provides: FileText,
  options: Schema.Struct({ file: Schema.String }),
  make: (ctx) => Effect.sync(() => ({ text: readText(resolveRecipePath(ctx, ctx.options.file)) }))
})

describe("recipeDir", () => {
  it("resolves relative paths from the recipe's folder for stages and resources, on resume too", async () => {
    const recipeDir = tempDir("recipe-dir")
    fs.mkdirSync(path.join(recipeDir, "data"))
    fs.writeFileSync(path.join(recipeDir, "data/stage.txt"), "from the stage file\n")
    fs.writeFileSync(path.join(recipeDir, "data/resource.txt"), "from the resource file\n")
    let failFirst = true
    const seen: Array<string | undefined> = []
    const reader = defineStage({
      role: "generator",
      description: "reads a file named relative to the recipe",
      options: Schema.Struct({ file: Schema.String }),
      uses: { source: FileText },
      run: (ctx) => {
        seen.push(ctx.recipeDir)
        if (failFirst) return Effect.fail(new StageError({ stage: ctx.name, message: "first attempt fails", fix: "resume" }))
        return ctx.output.append([{ stage: readText(resolveRecipePath(ctx, ctx.options.file)), resource: ctx.uses.source.text }])
      }
    })
    const spec = {
      stages: { read: { component: reader, options: { file: "data/stage.txt" }, uses: { source: "source" } } },
      resources: { source: { component: fileResource, options: { file: "./data/resource.txt" } } }
    }
    const recipe = { ...makeRecipe(spec), file: path.join(recipeDir, "recipe.yaml") }
    const runsDir = tempDir("runs")
    expect(Exit.isFailure(await Effect.runPromiseExit(runRecipe(recipe, { runsDir, cache: false })))).toBe(true)
    const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)

    // A resume reloads the recipe from the run's copy: its `file` is inside the run directory.
    failFirst = false
    const copy = { ...makeRecipe(spec), file: path.join(runDir, "recipe.yaml") }
    const resumed = await Effect.runPromise(resumeRun(runDir, copy, { cache: false }))
    expect(resumed.manifest.recipeDir).toBe(recipeDir)
    expect(seen).toEqual([recipeDir, recipeDir])
    const records = fs.readFileSync(path.join(runDir, "stages/read/records.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line))
    expect(records).toEqual([{ stage: "from the stage file", resource: "from the resource file" }])
  })
})

describe("resolveRecipePath", () => {
  it("keeps absolute paths, joins relative ones to recipeDir, and falls back to the cwd without one", () => {
    expect(resolveRecipePath({ recipeDir: "/exp" }, "/data/x.jsonl")).toBe(path.resolve("/data/x.jsonl"))
    expect(resolveRecipePath({ recipeDir: "/exp" }, "../data/x.jsonl")).toBe(path.resolve("/data/x.jsonl"))
    expect(resolveRecipePath({ recipeDir: "/exp" }, "seeds/x.jsonl")).toBe(path.resolve("/exp/seeds/x.jsonl"))
    expect(resolveRecipePath({}, "x.jsonl")).toBe(path.resolve(process.cwd(), "x.jsonl"))
  })
})
