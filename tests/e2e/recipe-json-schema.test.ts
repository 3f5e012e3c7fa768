/**
 * The editor JSON Schema agrees with `validate`: ajv (draft 2020-12) accepts every stock
 * recipe, and rejects planted typos that `validate` rejects — a misspelt top-level key, stage
 * option, and nested option (`sampling.temprature` used to pass: nested structs were open).
 */
import { Ajv2020 } from "ajv/dist/2020.js"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { loadRecipe, loadRecipePlugins, recipeJsonSchema } from "@refine-af/core"
import { repoRoot } from "./cli.ts"

const stockRecipes = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? stockRecipes(path.join(dir, entry.name)) : entry.name.endsWith(".yaml") ? [path.join(dir, entry.name)] : [])

const validatorFor = async (file: string) => {
  const plugins = await Effect.runPromise(loadRecipePlugins(file, { cwd: repoRoot }))
  return new Ajv2020({ strict: false, allErrors: true }).compile(recipeJsonSchema(plugins))
}

const recipes = stockRecipes(path.join(repoRoot, "recipes")).map((file) => path.relative(repoRoot, file))

describe("recipe JSON Schema vs validate", () => {
  it("covers the stock recipes", () => expect(recipes.length).toBeGreaterThanOrEqual(5))

  it.each(recipes)("accepts %s", async (file) => {
    const validate = await validatorFor(path.join(repoRoot, file))
    const ok = validate(parse(fs.readFileSync(path.join(repoRoot, file), "utf8")))
    expect(ok, JSON.stringify(validate.errors?.slice(0, 3))).toBe(true)
  })

  it("rejects planted typos that validate rejects, at every depth", async () => {
    const file = path.join(repoRoot, "recipes/quickstart.yaml")
    const validate = await validatorFor(file)
    const recipe = parse(fs.readFileSync(file, "utf8")) as Record<string, any>
    const stageWithSampling = Object.keys(recipe.stages).find((name) => typeof recipe.stages[name].sampling === "object")
    expect(stageWithSampling, "quickstart has a stage with sampling options").toBeDefined()
    const planted: Record<string, (copy: Record<string, any>) => Array<string>> = {
      "top-level key": (copy) => ((copy["sede"] = 3), ["sede=3"]),
      "stage option": (copy) => ((copy.stages[stageWithSampling!].max_instuctions = 3), [`stages.${stageWithSampling}.max_instuctions=3`]),
      "nested option": (copy) => ((copy.stages[stageWithSampling!].sampling.temprature = 0.5), [`stages.${stageWithSampling}.sampling.temprature=0.5`])
    }
    for (const [what, plant] of Object.entries(planted)) {
      const copy = structuredClone(recipe)
      const overrides = plant(copy)
      expect(validate(copy), `${what} should be rejected by the JSON Schema`).toBe(false)
      const validated = await Effect.runPromise(Effect.result(loadRecipe(file, { cwd: repoRoot, overrides })))
      expect(validated._tag, `${what} should be rejected by validate`).toBe("Failure")
    }
  })
})
