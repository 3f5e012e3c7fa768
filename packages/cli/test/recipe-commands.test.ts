/** The recipe commands' building blocks, in process: validate, plugins, schema, recipes ls/cp. */
import { Effect, Exit, Result } from "effect"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadPluginsFrom } from "@refine-af/core"
import { formatDiscovered, formatPluginList } from "../src/commands/plugins.ts"
import { copyStockRecipe, findStockRecipesDir, formatStockRecipes, listStockRecipes, stockRecipeCandidates, stockRecipesDir } from "../src/commands/recipes.ts"
import { recipeSchemaText } from "../src/commands/schema.ts"
import { outcomeOf } from "../src/report-error.ts"
import { validateRecipeFile } from "../src/commands/validate.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
/** Recipe fixtures and the fixture plugin live with the recipe loader's tests in core. */
const coreFixtures = path.resolve(here, "../../core/test/fixtures")

let sandbox: string

beforeAll(() => {
  sandbox = mkdtempSync(path.join(tmpdir(), "refine-af-recipes-"))
  mkdirSync(path.join(sandbox, "stock/paper"), { recursive: true })
  writeFileSync(path.join(sandbox, "stock/quick.yaml"), "# quick: the fast one\nname: quick\ndescription: Quick demo run\nplugins: []\nstages: {}\n")
  writeFileSync(path.join(sandbox, "stock/paper/llama.yaml"), "# Reproduces the paper's LLaMA run.\nname: llama\nplugins: []\n")
})

afterAll(() => rmSync(sandbox, { recursive: true, force: true }))

describe("validate", () => {
  it("summarises a valid recipe", async () => {
    expect(await Effect.runPromise(validateRecipeFile("valid/full.yaml", [], coreFixtures))).toBe("ok: 4 stages, 2 resources")
    expect(await Effect.runPromise(validateRecipeFile("valid/unnamed.yaml", [], coreFixtures))).toBe("ok: 1 stage, 0 resources")
  })

  it("fails with RecipeInvalid when an override breaks it", async () => {
    const result = await Effect.runPromise(Effect.result(validateRecipeFile("valid/full.yaml", ["stages.gen.max_instructions=0"], coreFixtures)))
    expect(Result.isFailure(result) && result.failure._tag).toBe("RecipeInvalid")
  })
})

describe("plugins", () => {
  it("lists each component with kind, options (type, default, doc), input ports and slots", async () => {
    const plugins = await Effect.runPromise(loadPluginsFrom({ recipe: "valid/full.yaml" }, coreFixtures))
    const text = formatPluginList(plugins)
    const lines = text.split("\n")
    expect(lines[0]).toBe("text 1.2.3  (@refine-af/fixture-text@1.2.3 from ../plugins/text)")
    expect(lines).toContain("  text/lines  (stage · generator)")
    expect(lines).toContain("  text/judge  (resource · provides @refine-af/core/Scorer)")
    expect(text).toMatch(/^ +repeat +integer +default 1 +times to emit each line$/m)
    expect(text).toMatch(/^ +lines +array<string> +required +the lines to emit$/m)
    expect(text).toMatch(/^ +right +optional +second stream$/m)
    expect(text).toMatch(/^ +model +required +@refine-af\/core\/LanguageModel$/m)
  })

  it("needs a recipe or package names", async () => {
    const result = await Effect.runPromise(Effect.result(loadPluginsFrom({ specifiers: [] })))
    expect(Result.isFailure(result) && result.failure._tag).toBe("PluginListInvalid")
  })

  it("with no arguments, lists the discovered plugins and warns about each one that failed to load", async () => {
    const plugins = await Effect.runPromise(loadPluginsFrom({ recipe: "valid/full.yaml" }, coreFixtures))
    const found = formatDiscovered({ plugins, failures: [{ index: 1, specifier: "broken-plugin", message: "importing plugin \"broken-plugin\" failed: boom", fix: "reinstall it" }] })
    expect(found.stdout).toBe(formatPluginList(plugins))
    expect(found.stderr).toBe("warning: plugin \"broken-plugin\" could not be loaded: importing plugin \"broken-plugin\" failed: boom (fix: reinstall it)")
    const none = formatDiscovered({ plugins: [], failures: [] })
    expect(none.stdout).toContain("\"refine-af\": { \"plugin\": true }")
    expect(none.stderr).toBe("")
  })

  it("reports every package that cannot be loaded", async () => {
    const result = await Effect.runPromise(Effect.result(loadPluginsFrom({ specifiers: ["@refine-af/not-here", "node:fs"] }, coreFixtures)))
    expect(Result.isFailure(result) && result.failure.message.split("\n")).toHaveLength(2)
  })
})

describe("schema", () => {
  it("builds the JSON Schema from a recipe's plugins or from plugin paths", async () => {
    const fromRecipe = await Effect.runPromise(recipeSchemaText(["valid/full.yaml"], coreFixtures))
    const fromPaths = await Effect.runPromise(recipeSchemaText(["./plugins/text"], coreFixtures))
    const schema = JSON.parse(fromRecipe.text) as { $defs: Record<string, unknown> }
    expect(Object.keys(schema.$defs)).toContain("component.text.generate")
    expect(JSON.parse(fromPaths.text)).toMatchObject({ $defs: { stage: schema.$defs["stage"] } })
  })
})

describe("recipes", () => {
  const stock = () => path.join(sandbox, "stock")

  it("lists stock recipes with their description (description key, else first comment)", () => {
    const recipes = listStockRecipes(stock())
    expect(recipes.map((recipe) => [recipe.name, recipe.description])).toEqual([
      ["paper/llama", "Reproduces the paper's LLaMA run."],
      ["quick", "Quick demo run"]
    ])
    expect(formatStockRecipes(recipes)).toBe("paper/llama  Reproduces the paper's LLaMA run.\nquick        Quick demo run")
  })

  it("finds the repository's recipes folder", () => {
    expect(stockRecipesDir).toBe(path.resolve(here, "../../../recipes"))
  })

  it("looks for recipes/ in the cwd and above first, then next to the CLI", () => {
    const project = path.join(sandbox, "project")
    mkdirSync(path.join(project, "recipes"), { recursive: true })
    mkdirSync(path.join(project, "deep/er"), { recursive: true })
    writeFileSync(path.join(project, "recipes/mine.yaml"), "name: mine\nplugins: []\n")
    expect(findStockRecipesDir(project)).toBe(path.join(project, "recipes"))
    expect(findStockRecipesDir(path.join(project, "deep/er"))).toBe(path.join(project, "recipes"))
    // An empty recipes/ folder does not hide the stock ones.
    const empty = path.join(sandbox, "empty-project")
    mkdirSync(path.join(empty, "recipes"), { recursive: true })
    expect(findStockRecipesDir(empty)).toBe(stockRecipesDir)
    expect(stockRecipeCandidates(empty).slice(-2)).toEqual([path.resolve(here, "../recipes"), stockRecipesDir])
  })

  it("copies a recipe to a file or into a folder, refusing to overwrite without force", async () => {
    const dest = path.join(sandbox, "mine.yaml")
    expect(await Effect.runPromise(copyStockRecipe("quick", dest, { dir: stock() }))).toEqual({ recipe: dest, files: [] })
    expect(readFileSync(dest, "utf8")).toBe(readFileSync(path.join(stock(), "quick.yaml"), "utf8"))

    const again = await Effect.runPromise(Effect.result(copyStockRecipe("quick", dest, { dir: stock() })))
    expect(Result.isFailure(again) && again.failure).toMatchObject({ _tag: "RecipeCopyRefused", fix: expect.stringContaining("--force") })
    expect(Result.isFailure(again) && outcomeOf(Exit.fail(again.failure)).code).toBe(2)

    writeFileSync(dest, "edited")
    await Effect.runPromise(copyStockRecipe("quick.yaml", dest, { dir: stock(), force: true }))
    expect(readFileSync(dest, "utf8")).toContain("Quick demo run")

    const folder = path.join(sandbox, "into")
    mkdirSync(folder)
    expect((await Effect.runPromise(copyStockRecipe("paper/llama", folder, { dir: stock() }))).recipe).toBe(path.join(folder, "llama.yaml"))
  })

  it("copies the files a recipe names next to itself, so the copy validates where it lands", async () => {
    const dir = path.join(sandbox, "with-data")
    mkdirSync(path.join(dir, "data"), { recursive: true })
    writeFileSync(path.join(dir, "train.yaml"), "name: train\nplugins: []\nstages:\n  a: { _component_: x/y, path: rows.jsonl, more: [./data/extra.txt, https://example.org/x, /etc/hostname, ./models/absent] }\n")
    writeFileSync(path.join(dir, "rows.jsonl"), "{}\n")
    writeFileSync(path.join(dir, "data/extra.txt"), "extra")
    const to = path.join(sandbox, "copied")
    mkdirSync(to)
    const copied = await Effect.runPromise(copyStockRecipe("train", to, { dir }))
    expect(copied).toEqual({ recipe: path.join(to, "train.yaml"), files: [path.join(to, "data/extra.txt"), path.join(to, "rows.jsonl")] })
    expect(readFileSync(path.join(to, "data/extra.txt"), "utf8")).toBe("extra")
    // Into another recipe name beside them: identical data files are no clash; a changed one is, until --force.
    await Effect.runPromise(copyStockRecipe("train", path.join(to, "again.yaml"), { dir }))
    writeFileSync(path.join(to, "rows.jsonl"), "mine\n")
    const refused = await Effect.runPromise(Effect.result(copyStockRecipe("train", path.join(to, "third.yaml"), { dir })))
    expect(Result.isFailure(refused) && refused.failure.message).toBe(`${path.join(to, "rows.jsonl")} already exists`)
    expect(readFileSync(path.join(to, "rows.jsonl"), "utf8")).toBe("mine\n")
    await Effect.runPromise(copyStockRecipe("train", path.join(to, "third.yaml"), { dir, force: true }))
    expect(readFileSync(path.join(to, "rows.jsonl"), "utf8")).toBe("{}\n")
  })

  it("suggests the closest name for an unknown recipe", async () => {
    const result = await Effect.runPromise(Effect.result(copyStockRecipe("quik", path.join(sandbox, "x.yaml"), { dir: stock() })))
    expect(Result.isFailure(result) && result.failure).toMatchObject({ _tag: "UnknownStockRecipe", message: "no stock recipe named \"quik\"; did you mean \"quick\"?" })
  })
})
