import * as fs from "node:fs"
import * as path from "node:path"
import { parse } from "yaml"
import { describe, expect, it } from "vitest"
import { createRunDir, newRunId, portableDocument, type ResolvedRecipe } from "../../src/index.ts"
import { makeRecipe, tempDir } from "./fixtures.ts"

const withPlugins = (file: string, plugins: Array<string>): ResolvedRecipe => ({
  ...makeRecipe({ stages: {} }),
  file,
  document: { name: "test", plugins, stages: {} }
})

describe("run directories", () => {
  it("are named <name>-<yyyymmdd-hhmmss>-<4 hex> in UTC, with unsafe characters replaced", () => {
    const id = newRunId("my recipe/v2", new Date(Date.UTC(2026, 0, 24, 10, 15, 0)))
    expect(id).toMatch(/^my-recipe-v2-20260124-101500-[0-9a-f]{4}$/)
  })

  it("keep a resolved recipe whose relative plugin paths still resolve from the run directory", () => {
    const recipeDir = tempDir("recipe")
    const file = path.join(recipeDir, "r.yaml")
    fs.writeFileSync(file, "name: test\n")
    const recipe = withPlugins(file, ["@refine-af/plugin-demo", "./local-plugin", "../shared/plugin", "/abs/plugin"])
    expect(portableDocument(recipe)["plugins"]).toEqual([
      "@refine-af/plugin-demo",
      path.join(recipeDir, "local-plugin"),
      path.resolve(recipeDir, "../shared/plugin"),
      "/abs/plugin"
    ])
    const runDir = createRunDir(tempDir("runs"), "test-1", recipe)
    expect(parse(fs.readFileSync(path.join(runDir, "recipe.yaml"), "utf8"))).toEqual(portableDocument(recipe))
    expect(fs.readFileSync(path.join(runDir, "recipe.original.yaml"), "utf8")).toBe("name: test\n")
  })
})
