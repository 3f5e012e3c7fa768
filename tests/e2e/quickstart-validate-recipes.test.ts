/**
 * Every recipe shipped in `recipes/` (quickstart, paper configurations,
 * examples) passes `refine-af validate`: plugins resolve, components exist,
 * options decode, connections and slots line up.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot, runCli } from "./cli.ts"

const recipeFiles = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return recipeFiles(full)
    return /\.ya?ml$/.test(entry.name) ? [path.relative(repoRoot, full)] : []
  })

const recipes = recipeFiles(path.join(repoRoot, "recipes")).sort()

describe("shipped recipes", () => {
  it("include the quickstart, the paper configurations and the examples", () => {
    expect(recipes).toContain("recipes/quickstart.yaml")
    expect(recipes.some((file) => file.startsWith("recipes/paper/"))).toBe(true)
    expect(recipes.some((file) => file.startsWith("recipes/examples/"))).toBe(true)
  })

  it.each(recipes)("%s validates", async (recipe) => {
    const result = await runCli(["validate", recipe])
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
  })
})
