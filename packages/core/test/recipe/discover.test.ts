/** `discoverPlugins`: installed packages that declare themselves refine-af plugins, and only those. */
import { Effect } from "effect"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { declaresPlugin, discoverPluginPackages, discoverPlugins } from "@refine-af/core"

// Inside the repository, so the fixture plugins' own imports (effect, @refine-af/core) resolve.
let project: string

const validPlugin = (name: string) => `import { Effect, Schema } from "effect"
import { definePlugin, defineStage } from "@refine-af/core"
export default definePlugin({ name: "${name}", version: "1.0.0", components: {
  noop: defineStage({ role: "transform", description: "does nothing", options: Schema.Struct({}), run: () => Effect.void })
} })
`

const writePackage = (dir: string, packageJson: Record<string, unknown>, index: string) => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ version: "1.0.0", type: "module", exports: { ".": "./index.ts" }, ...packageJson }))
  writeFileSync(path.join(dir, "index.ts"), index)
}

beforeAll(() => {
  project = mkdtempSync(path.join(import.meta.dirname, ".tmp-discover-"))
  const modules = path.join(project, "node_modules")
  writePackage(path.join(modules, "flagged-plugin"), { name: "flagged-plugin", "refine-af": { plugin: true } }, validPlugin("flagged"))
  writePackage(path.join(modules, "@scope/keyworded"), { name: "@scope/keyworded", keywords: ["llm", "refine-af-plugin"] }, validPlugin("keyworded"))
  writePackage(path.join(modules, "plain-package"), { name: "plain-package" }, validPlugin("plain"))
  writePackage(path.join(modules, "broken-plugin"), { name: "broken-plugin", "refine-af": { plugin: true } }, "export default 42\n")
  mkdirSync(path.join(modules, ".bin"))
})

afterAll(() => rmSync(project, { recursive: true, force: true }))

const modules = () => path.join(project, "node_modules")

describe("declaresPlugin", () => {
  it("accepts the package.json field or the keyword, nothing else", () => {
    expect(declaresPlugin({ "refine-af": { plugin: true } })).toBe(true)
    expect(declaresPlugin({ keywords: ["refine-af-plugin"] })).toBe(true)
    expect(declaresPlugin({ "refine-af": { plugin: "yes" } })).toBe(false)
    expect(declaresPlugin({ keywords: ["refine-af"] })).toBe(false)
    expect(declaresPlugin({ name: "x" })).toBe(false)
  })
})

describe("discoverPlugins", () => {
  it("finds marked packages in node_modules (scoped too) and in the workspace, skipping unmarked ones", () => {
    const names = discoverPluginPackages([project]).map((plugin) => plugin.name)
    expect(names).toEqual(expect.arrayContaining(["flagged-plugin", "@scope/keyworded", "broken-plugin", "@refine-af/plugin-demo"]))
    expect(names).not.toContain("plain-package")
    expect(names).not.toContain("@refine-af/core")
    expect(new Set(names).size).toBe(names.length)
  })

  it("finds the plugin package whose own folder it searches from (a plugin author running `refine-af plugins` there)", async () => {
    const own = path.join(project, "own-plugin")
    writePackage(own, { name: "own-plugin", "refine-af": { plugin: true } }, validPlugin("own"))
    const found = discoverPluginPackages([own]).find((plugin) => plugin.name === "own-plugin")
    expect(found?.specifier).toBe(realpathSync(own))
    const { plugins } = await Effect.runPromise(discoverPlugins([own]))
    expect(plugins.map((plugin) => plugin.manifest.name)).toContain("own")
    // An unmarked folder is not a plugin.
    expect(discoverPluginPackages([path.join(modules(), "plain-package")]).map((plugin) => plugin.name)).not.toContain("plain-package")
  })

  it("loads every discovered plugin, reporting the broken one as a failure instead of failing", async () => {
    const { plugins, failures } = await Effect.runPromise(discoverPlugins([project]))
    expect(plugins.map((plugin) => plugin.manifest.name)).toEqual(expect.arrayContaining(["flagged", "keyworded", "demo"]))
    expect(failures.map((failure) => failure.specifier)).toEqual(["broken-plugin"])
    expect(failures[0]!.message).toContain("is not a valid plugin")
  })
})
