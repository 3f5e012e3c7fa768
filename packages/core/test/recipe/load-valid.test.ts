/** A valid recipe resolves to exactly what the runner needs. */
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { fixturesDir, loadValid } from "./support.ts"

const fullRecipe = path.join(fixturesDir, "valid/full.yaml")

describe("loadRecipe on a valid recipe", () => {
  it("resolves metadata, plugins and the file path", async () => {
    const recipe = await loadValid(fullRecipe)
    expect(recipe.file).toBe(fullRecipe)
    expect(recipe.name).toBe("full")
    expect(recipe.description).toBe("Every recipe feature at once")
    expect(recipe.seed).toBe(7)
    expect(recipe.plugins.map((plugin) => [plugin.specifier, plugin.packageName, plugin.packageVersion, plugin.manifest.name]))
      .toEqual([["../plugins/text", "@refine-af/fixture-text", "1.2.3", "text"]])
  })

  it("orders stages after their inputs, ties in order of appearance, and resources after what they use", async () => {
    const recipe = await loadValid(fullRecipe)
    // upper is written first but reads seeds; merged reads gen which reads upper.
    expect(recipe.order).toEqual(["seeds", "upper", "gen", "merged"])
    expect(recipe.resourceOrder).toEqual(["policy", "judge"])
  })

  it("splits each node into component, input ports, slots and decoded options", async () => {
    const recipe = await loadValid(fullRecipe)
    const gen = recipe.stages["gen"]!
    expect(gen.componentId).toBe("text/generate")
    expect(gen.component).toBe(gen.plugin.manifest.components["generate"])
    expect(gen.inputs).toEqual({ seeds: "upper" })
    expect(gen.uses).toEqual({ model: "policy" })
    expect(gen.options).toEqual({ max_instructions: 10, sampling: { temperature: 0.7, stop: ["\n\n"] } })
    expect(recipe.stages["merged"]!.inputs).toEqual({ left: "gen" })
    expect(recipe.resources["judge"]!.uses).toEqual({ model: "policy" })
    expect(recipe.resources["judge"]!.options).toEqual({ weight: 0.5 })
  })

  it("applies option defaults in `options` but keeps `rawOptions` as written", async () => {
    const recipe = await loadValid(fullRecipe)
    expect(recipe.stages["seeds"]!.options).toEqual({ lines: ["a", "b"], repeat: 1 })
    expect(recipe.stages["seeds"]!.rawOptions).toEqual({ lines: ["a", "b"] })
  })

  it("keeps the whole document as plain data, equal to what a YAML parser reads", async () => {
    const recipe = await loadValid(fullRecipe)
    expect(recipe.document).toEqual(parse(readFileSync(fullRecipe, "utf8")))
  })

  it("names the recipe after its file when it has no name", async () => {
    const recipe = await loadValid("valid/unnamed.yaml")
    expect(recipe.name).toBe("unnamed")
    expect(recipe.seed).toBe(0)
    expect(recipe.order).toEqual(["only"])
  })
})
