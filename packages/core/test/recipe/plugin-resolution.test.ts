/**
 * Plugins resolve by package name through node_modules (relative to the
 * recipe's folder, symlinks followed as for workspace packages), or by
 * explicit path; anything else is refused before any import.
 */
import { Effect, Result } from "effect"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { classifyPluginSpecifier, loadPlugin, loadPluginList } from "@refine-af/core"
import { fixturesDir, loadInvalid, loadValid } from "./support.ts"

let sandbox: string

beforeAll(() => {
  // A project folder with its own node_modules holding the fixture plugin as a symlink, like a workspace package.
  sandbox = mkdtempSync(path.join(tmpdir(), "refine-af-plugins-"))
  mkdirSync(path.join(sandbox, "node_modules/@fixture"), { recursive: true })
  symlinkSync(path.join(fixturesDir, "plugins/text"), path.join(sandbox, "node_modules/@fixture/text"), "dir")
  mkdirSync(path.join(sandbox, "recipes"))
  writeFileSync(
    path.join(sandbox, "recipes/by-name.yaml"),
    ["plugins: [\"@fixture/text\"]", "stages:", "  seeds: {_component_: text/lines, lines: [a]}", ""].join("\n")
  )
})

afterAll(() => rmSync(sandbox, { recursive: true, force: true }))

describe("plugin resolution", () => {
  it("finds a package by name from the recipe's folder upwards, reading name and version from its package.json", async () => {
    const recipe = await loadValid(path.join(sandbox, "recipes/by-name.yaml"), { cwd: tmpdir() })
    expect(recipe.plugins[0]).toMatchObject({ specifier: "@fixture/text", packageName: "@refine-af/fixture-text", packageVersion: "1.2.3" })
  })

  it("finds a package by name from the cwd when the recipe's folder has none", async () => {
    const plugin = await Effect.runPromise(loadPlugin("@fixture/text", { searchFrom: [tmpdir(), sandbox] }))
    expect(plugin.manifest.name).toBe("text")
  })

  it("says a missing package is not installed and how to install it", async () => {
    const result = await Effect.runPromise(Effect.result(loadPlugin("@fixture/absent", { searchFrom: [sandbox] })))
    expect(Result.isFailure(result) && result.failure).toMatchObject({ _tag: "PluginNotFound", fix: "run `npm install @fixture/absent`" })
  })

  it("also finds packages installed next to refine-af itself, for recipes copied outside the project", async () => {
    // `effect` is installed with refine-af but not under the sandbox: found (then rejected as not a plugin), not "not installed".
    const result = await Effect.runPromise(Effect.result(loadPlugin("effect", { searchFrom: [sandbox] })))
    expect(Result.isFailure(result) && result.failure._tag).toBe("PluginManifestInvalid")
  })

  it("rejects an installed package that is not a plugin (no manifest default export)", async () => {
    const result = await Effect.runPromise(Effect.result(loadPlugin("yaml", { searchFrom: [fixturesDir] })))
    expect(Result.isFailure(result) && result.failure._tag).toBe("PluginManifestInvalid")
  })

  it("loads an explicit path to a plugin file (not a folder)", async () => {
    const plugin = await Effect.runPromise(loadPlugin("./plugins/text/index.ts", { searchFrom: [fixturesDir] }))
    expect([plugin.packageName, plugin.packageVersion]).toEqual(["text", "1.2.3"])
  })

  it("says when an explicit folder is not a package", async () => {
    const result = await Effect.runPromise(Effect.result(loadPlugin("./plugins", { searchFrom: [fixturesDir] })))
    expect(Result.isFailure(result) && result.failure.message).toContain("plugin folder \"./plugins\" has no package.json")
  })

  it("reports every failing entry of a plugin list, keeping the good ones", async () => {
    const list = await Effect.runPromise(loadPluginList(["./plugins/text", "node:fs", "./plugins/text"], { searchFrom: [fixturesDir] }))
    expect(list.plugins.map((plugin) => plugin.manifest.name)).toEqual(["text"])
    expect(list.failures.map((failure) => [failure.index, failure.fix])).toEqual([
      [1, expect.stringContaining("Node builtins are not plugins")],
      [2, "list each plugin once"]
    ])
  })

  it("reports a recipe that lists no valid plugin with the problem at the plugin entry only", async () => {
    const error = await loadInvalid("malformed/unsafe-plugin-node-builtin.yaml")
    expect(error.problems).toHaveLength(1)
  })
})

describe("plugin specifiers", () => {
  it.each([
    ["@refine-af/plugin-demo", "Package"],
    ["left-pad", "Package"],
    ["./local", "Path"],
    ["../up/one", "Path"],
    ["/abs/path", "Path"],
    ["https://x.test/p.js", "Unsafe"],
    ["data:text/javascript,1", "Unsafe"],
    ["node:fs", "Unsafe"],
    ["file:///etc/passwd", "Unsafe"],
    ["C:\\plugins\\x", "Unsafe"],
    ["plugins/text", "Unsafe"],
    ["Upper-Case", "Unsafe"],
    ["@scope/name/deep", "Unsafe"],
    ["", "Unsafe"]
  ])("%s is %s", (specifier, expected) => {
    expect(classifyPluginSpecifier(specifier)._tag).toBe(expected)
  })
})
