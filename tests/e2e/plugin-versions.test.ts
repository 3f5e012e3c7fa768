/**
 * Each of this repository's plugins states one version: its package.json's and its
 * `definePlugin` manifest's agree. Both are part of its stages' cache keys (`componentVersion`),
 * so a bump of one alone would still re-run them, but `refine-af plugins`, run manifests and
 * cache keys would then show two versions for one release. The lockfile states the same versions.
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

  it("package-lock.json states every workspace package's own version (a bump of package.json alone leaves the lockfile behind)", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> }
    const folders = ["packages", "plugins"].flatMap((parent) => fs.readdirSync(path.join(repoRoot, parent)).map((name) => `${parent}/${name}`))
      .filter((folder) => fs.existsSync(path.join(repoRoot, folder, "package.json")))
    expect(folders.length).toBeGreaterThanOrEqual(20)
    const stale = folders.flatMap((folder) => {
      const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, folder, "package.json"), "utf8")) as { version: string }).version
      const locked = lock.packages[folder]?.version
      return locked === version ? [] : [`${folder}: package.json ${version}, package-lock.json ${locked}`]
    })
    expect(stale, "run npm install to update package-lock.json").toEqual([])
  })
})
