/**
 * Each of this repository's plugins states one version: its package.json's and its
 * `definePlugin` manifest's agree. Both are part of its stages' cache keys (`componentVersion`),
 * so a bump of one alone would still re-run them, but `refine-af plugins`, run manifests and
 * cache keys would then show two versions for one release.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot } from "./cli.ts"

const plugins = fs.readdirSync(path.join(repoRoot, "plugins")).filter((name) => fs.existsSync(path.join(repoRoot, "plugins", name, "package.json"))).sort()

describe("plugin versions", () => {
  it("covers every plugin folder", () => expect(plugins.length).toBeGreaterThanOrEqual(15))

  it.each(plugins)("%s: package.json and definePlugin state the same version", async (name) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "plugins", name, "package.json"), "utf8")) as { name: string; version: string }
    const manifest = ((await import(pkg.name)) as { default: { version: string } }).default
    expect(manifest.version).toBe(pkg.version)
  })
})
