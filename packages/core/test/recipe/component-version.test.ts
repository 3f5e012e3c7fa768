/**
 * The version a component's results are cached under: bumping the plugin's version in
 * package.json or in `definePlugin` re-runs its stages; a component's own `version` wins.
 */
import { describe, expect, it } from "vitest"
import { componentVersion, type LoadedPlugin } from "../../src/index.ts"
import { stageKeyOf } from "../../src/run/stage-exec.ts"
import { counterStage, makeRecipe, testPlugin } from "../run/fixtures.ts"

const plugin = (packageVersion: string, manifestVersion: string): LoadedPlugin => ({
  ...testPlugin,
  packageVersion,
  manifest: { ...testPlugin.manifest, version: manifestVersion }
})

describe("componentVersion", () => {
  it("is the package's version when definePlugin states the same one", () => {
    expect(componentVersion({ component: {}, plugin: plugin("1.0.0", "1.0.0") })).toBe("1.0.0")
  })

  it("names both versions when they differ, so either bump changes it", () => {
    const versions = [plugin("1.0.0", "1.0.0"), plugin("1.0.0", "1.1.0"), plugin("1.2.0", "1.0.0")].map((p) => componentVersion({ component: {}, plugin: p }))
    expect(versions[1]).toBe("1.0.0+manifest.1.1.0")
    expect(new Set(versions).size).toBe(3)
  })

  it("is the component's own version when it sets one", () => {
    expect(componentVersion({ component: { version: "7" }, plugin: plugin("1.0.0", "2.0.0") })).toBe("7")
  })

  it("changes a stage's cache key when only definePlugin's version is bumped", () => {
    const keyWith = (p: LoadedPlugin) => {
      const recipe = makeRecipe({ stages: { count: { component: counterStage, options: { count: 3 } } } })
      const stages = { count: { ...recipe.stages["count"]!, plugin: p } }
      return stageKeyOf({ ...recipe, stages }, "count", { outputHash: () => undefined, resourceIdentity: () => "", recipeDir: "/tmp" })
    }
    expect(keyWith(plugin("1.0.0", "1.1.0"))).not.toBe(keyWith(plugin("1.0.0", "1.0.0")))
    expect(keyWith(plugin("1.0.0", "1.0.0"))).toBe(keyWith(plugin("1.0.0", "1.0.0")))
  })
})
