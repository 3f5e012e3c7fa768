/**
 * Every recipe shipped in `recipes/` (quickstart, paper configurations,
 * examples) passes `refine-af validate`: plugins resolve, components exist,
 * options decode, connections and slots line up. The paper recipes need their
 * model folder to exist first (validate checks path options).
 */
import * as fs from "node:fs"
import * as os from "node:os"
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

  it.each(recipes.filter((recipe) => !recipe.startsWith("recipes/paper/")))("%s validates", async (recipe) => {
    const result = await runCli(["validate", recipe])
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
  })

  // The paper recipes name model folders a user downloads first (`refine-af models pull`):
  // validate refuses them while the folder is missing — naming it — and passes once it exists.
  it.each(recipes.filter((recipe) => recipe.startsWith("recipes/paper/")))("%s validates once its model folder exists", async (recipe) => {
    const missing = await runCli(["validate", recipe])
    expect(missing.code, `${missing.stdout}\n${missing.stderr}`).toBe(2)
    const errors = `${missing.stdout}\n${missing.stderr}`.split("\n").filter((line) => line.includes(" error: "))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/resource "policy" \(llama\/hf\): option "path" names .*\/recipes\/paper\/models\/.*, which does not exist/)
    // validate looks into the folder (files present, config.json sizes fit memory): a small stand-in.
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-paper-model-"))
    const config = { model_type: "llama", vocab_size: 32000, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4 }
    fs.writeFileSync(path.join(modelDir, "config.json"), JSON.stringify(config))
    for (const file of ["model.safetensors", "tokenizer.json"]) fs.writeFileSync(path.join(modelDir, file), "")
    const present = await runCli(["validate", recipe, `resources.policy.path=${modelDir}`])
    expect(present.code, `${present.stdout}\n${present.stderr}`).toBe(0)
  })
})
