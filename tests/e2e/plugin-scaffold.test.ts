/**
 * `refine-af plugins new` writes a plugin package that works outside the repository: its own
 * tests pass (on @refine-af/testing), its one-stage recipe runs through the CLI; with a second
 * copy of effect in its folder the run is refused naming both copies (it used to fail with
 * "Cannot convert a Symbol value to a number"). The workspace copies stand in for installed
 * packages (linked into the plugin's node_modules), so no registry is needed.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { records, repoRoot, runCli, tempDir } from "./cli.ts"

const link = (pluginDir: string, name: string, target: string) => {
  fs.mkdirSync(path.dirname(path.join(pluginDir, "node_modules", name)), { recursive: true })
  fs.symlinkSync(target, path.join(pluginDir, "node_modules", name), "dir")
}

describe("plugins new", () => {
  it("scaffolds a plugin outside the repository whose tests pass and whose recipe runs; a second effect copy is refused", async () => {
    const dir = path.join(tempDir("scaffold"), "shout")
    const made = await runCli(["plugins", "new", "refine-af-plugin-shout", "--dir", dir])
    expect(made.code, made.stderr).toBe(0)
    expect(made.stdout).toContain(`wrote ${dir}: package.json, src/index.ts, test/echo.test.ts, recipe.yaml, README.md, tsconfig.json`)
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"))
    expect(Object.keys(pkg.peerDependencies)).toEqual(["@refine-af/core", "effect"])
    // The tool versions the scaffold asks for are the ones this repository tests with.
    const root = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"))
    for (const tool of ["typescript", "@types/node", "vitest"]) expect(pkg.devDependencies[tool], tool).toBe(root.devDependencies[tool])
    expect(Object.keys(pkg.devDependencies)).toContain("@refine-af/cli")
    expect(pkg["refine-af"]).toEqual({ plugin: true })
    link(dir, "@refine-af/core", path.join(repoRoot, "packages/core"))
    link(dir, "@refine-af/testing", path.join(repoRoot, "packages/testing"))
    link(dir, "effect", path.join(repoRoot, "node_modules/effect"))
    link(dir, "vitest", path.join(repoRoot, "node_modules/vitest"))

    const tests = execFileSync(path.join(repoRoot, "node_modules/.bin/vitest"), ["run"], { cwd: dir, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } })
    expect(tests.replace(/\x1b\[[0-9;]*m/g, "")).toMatch(/Tests +3 passed/)

    const runsDir = tempDir("scaffold-runs")
    const run = await runCli(["run", path.join(dir, "recipe.yaml"), "--runs-dir", runsDir, "--cache-dir", tempDir("scaffold-cache")])
    expect(run.code, run.stderr).toBe(0)
    const [runDir] = fs.readdirSync(runsDir)
    expect(records(path.join(runsDir, runDir!), "hello")).toEqual([0, 1, 2].map((index) => ({ index, text: "hello" })))

    const again = await runCli(["plugins", "new", "refine-af-plugin-shout", "--dir", dir])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain("exists and is not empty")

    // Its own copy of effect (a plain install of an unpeered dependency): refused at load, exit 2.
    fs.rmSync(path.join(dir, "node_modules/effect"))
    fs.cpSync(path.join(repoRoot, "node_modules/effect/package.json"), path.join(dir, "node_modules/effect/package.json"))
    const twoCopies = await runCli(["run", path.join(dir, "recipe.yaml"), "--runs-dir", runsDir])
    expect(twoCopies.code).toBe(2)
    expect(twoCopies.stderr).toContain(`would load its own copy of effect`)
    expect(twoCopies.stderr).toContain(path.join(dir, "node_modules/effect"))
    expect(twoCopies.stderr).toContain("npm dedupe")
    expect(twoCopies.stderr).not.toContain("Cannot convert a Symbol")
  }, 120_000)
})
