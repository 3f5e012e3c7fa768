/**
 * Every recipe shipped in `recipes/` (quickstart, paper configurations,
 * examples) passes `refine-af validate`: plugins resolve, components exist,
 * options decode, connections and slots line up. The paper recipes need their
 * model folders and the SuperNI split to exist first (validate checks path options).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot, runCli } from "./cli.ts"
import { createPaths, neededPaths, needsDownloads, writeStandInModel } from "./paper-layout.ts"

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

  it.each(recipes.filter((recipe) => !needsDownloads(recipe)))("%s validates", async (recipe) => {
    const result = await runCli(["validate", recipe])
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
  })

  // The paper recipes name model folders and the SuperNI split a user downloads first (their
  // headers give the `models pull` / `data pull` lines): validate refuses them while anything is
  // missing — naming every missing path, resolved next to the recipe — and passes once the
  // paths exist next to it (they resolve from the recipe's folder, not the cwd) with the model
  // folder given by an override, as the headers show. Both run on a copy of the recipe in an
  // empty temporary folder, so a checkout holding the real downloads passes too.
  it.each(recipes.filter(needsDownloads))("%s validates once its model folders and data exist", async (recipe) => {
    const { model, others } = neededPaths(recipe)
    const header = fs.readFileSync(path.join(repoRoot, recipe), "utf8")
    const folderOfRecipe = path.dirname(recipe)
    for (const folder of [model, ...others].filter((entry) => entry.relative.startsWith("models/"))) {
      const pullLine = new RegExp(`models pull \\S+ --dir ${folderOfRecipe}/${folder.relative.replaceAll(".", "\\.")}[\\s\`]`)
      expect(header, `the header says how to download ${folder.relative}`).toMatch(pullLine)
    }
    if (others.some((entry) => entry.relative.startsWith("data/superni/"))) expect(header).toMatch(new RegExp(`data pull superni --dir ${folderOfRecipe}/data/superni[\\s\`]`))

    const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-paper-recipe-"))
    const copy = path.join(copyDir, path.basename(recipe))
    fs.copyFileSync(path.join(repoRoot, recipe), copy)
    const missing = await runCli(["validate", copy])
    expect(missing.code, `${missing.stdout}\n${missing.stderr}`).toBe(2)
    const errors = `${missing.stdout}\n${missing.stderr}`.split("\n").filter((line) => line.includes(" error: "))
    const named = errors.map((line) => /option "\w+" names (\S+), which does not exist/.exec(line)?.[1])
    expect(named, errors.join("\n")).not.toContain(undefined)
    expect(new Set(named)).toEqual(new Set([model, ...others].map((entry) => path.join(copyDir, entry.relative))))

    createPaths(copyDir, others)
    // validate looks into the model folder (files present, config.json sizes fit memory): a small stand-in.
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-paper-model-"))
    writeStandInModel(modelDir)
    const present = await runCli(["validate", copy, `resources.policy.path=${modelDir}`])
    expect(present.code, `${present.stdout}\n${present.stderr}`).toBe(0)
  })
})
