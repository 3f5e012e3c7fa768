/**
 * The published shape, end to end, outside the repository: `tools/pack` builds core, the
 * packages the CLI and a plugin's tests need, and the CLI to `dist/` and packs them;
 * `refine-af plugins new` scaffolds a plugin in a folder of its own, which installs those
 * tarballs as dev dependencies as docs/plugin-authoring.md says (npm, `--prefer-offline`: the
 * packages `npm ci` cached) and there passes its tests against the installed
 * `@refine-af/testing`, type-checks against the installed declarations (the `types` condition)
 * and runs its recipe through its own installed CLI. Then the plugin is packed too and all the
 * tarballs are installed in a fresh project folder, where plain Node (no tsx) imports
 * `@refine-af/core`, the installed `refine-af` binary is built JavaScript, and it runs a recipe
 * naming the plugin by package name (its TypeScript entry loads through tsx registered on
 * first need).
 *
 * On the repository before dist/ builds, `npm pack` of packages/core shipped `src/*.ts` with
 * `exports: ./src/index.ts`, and `import("@refine-af/core")` from an installed copy failed with
 * ERR_UNKNOWN_FILE_EXTENSION ".ts".
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { npmEnv } from "./npm-env.ts"
import { records, repoRoot, runCli, tempDir } from "./cli.ts"

const published = ["core", "tensor", "training", "testing", "openai", "models", "cli"].map((name) => `packages/${name}`)

const run = (command: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = process.env) => {
  const started = performance.now()
  const result = spawnSync(command, args, { cwd, env: { ...env, FORCE_COLOR: "0", REFINE_AF_DEBUG: "" }, encoding: "utf8" })
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  console.log(`[pack-round-trip] ${path.basename(command)} ${args.slice(0, 2).join(" ")}: exit ${result.status}, ${seconds} s`)
  return { code: result.status, out: `${result.stdout}${result.stderr}`.replace(/\x1b\[[0-9;]*m/g, "") }
}

describe("npm pack round trip", () => {
  it("installs packed core, CLI and a scaffolded plugin outside the repository; the plugin's tests pass and the installed CLI runs it", async () => {
    const root = tempDir("pack")
    const tarballs = path.join(root, "tarballs")
    const app = path.join(root, "app")
    const plugin = path.join(root, "shout")

    const pack = run(path.join(repoRoot, "node_modules/.bin/tsx"), ["tools/pack/pack.ts", "--out", tarballs, ...published], repoRoot)
    expect(pack.code, pack.out).toBe(0)
    const packed = pack.out.trim().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { name: string; file: string })
    expect(packed.map((tarball) => tarball.name)).toEqual(published.map((folder) => `@refine-af/${path.basename(folder)}`))

    const scaffold = await runCli(["plugins", "new", "refine-af-plugin-shout", "--dir", plugin])
    expect(scaffold.code, scaffold.stderr).toBe(0)
    // Its hint names the tarballs a plugin folder outside the repository installs: the ones packed here.
    expect(/refine-af-\{([^}]+)\}-\*\.tgz/.exec(scaffold.stdout)?.[1]?.split(",").sort()).toEqual(published.map((folder) => path.basename(folder)).sort())

    // docs/plugin-authoring.md, "Start from the scaffold", outside a checkout: the tarballs as dev
    // dependencies, then the plugin's tests, its type check and its recipe, all from its own folder.
    const devInstall = run("npm", [
      "install", "-D", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", ...packed.map((tarball) => tarball.file)
    ], plugin, npmEnv({ ONNXRUNTIME_NODE_INSTALL: "skip" }))
    expect(devInstall.code, devInstall.out).toBe(0)
    const tests = run("npm", ["test"], plugin, npmEnv())
    expect(tests.out).toMatch(/Tests +3 passed/)
    expect(tests.code).toBe(0)
    // Against the installed declarations (exports' `types` condition), with the scaffold's own typescript and @types/node.
    const typecheck = run("npm", ["run", "typecheck", "--silent"], plugin, npmEnv())
    expect(typecheck.out.trim()).toBe("")
    expect(typecheck.code).toBe(0)
    const pluginRuns = path.join(root, "plugin-runs")
    const local = run(path.join(plugin, "node_modules/.bin/refine-af"), ["run", "recipe.yaml", "--runs-dir", pluginRuns, "--cache-dir", path.join(root, "plugin-cache")], plugin)
    expect(local.code, local.out).toBe(0)
    expect(records(path.join(pluginRuns, fs.readdirSync(pluginRuns)[0]!), "hello")).toEqual([0, 1, 2].map((index) => ({ index, text: "hello" })))

    const pluginPack = run("npm", ["pack", plugin, "--pack-destination", tarballs, "--ignore-scripts", "--silent"], tarballs, npmEnv())
    expect(pluginPack.code, pluginPack.out).toBe(0)
    const pluginTarball = path.join(tarballs, pluginPack.out.trim().split("\n").at(-1)!)

    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "round-trip-app", private: true, type: "module" }))
    const install = run("npm", [
      "install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error",
      ...packed.map((tarball) => tarball.file), pluginTarball
    ], app, npmEnv({ ONNXRUNTIME_NODE_INSTALL: "skip" }))
    expect(install.code, install.out).toBe(0)

    // What was installed is the built package: dist/ and declarations, no TypeScript sources.
    const installed = (name: string) => path.join(app, "node_modules", name)
    const core = JSON.parse(fs.readFileSync(path.join(installed("@refine-af/core"), "package.json"), "utf8"))
    expect(core.exports["."]).toEqual({ types: "./dist/index.d.ts", import: "./dist/index.js" })
    expect(core.peerDependencies).toEqual({ effect: "^4.1.0" })
    const testing = JSON.parse(fs.readFileSync(path.join(installed("@refine-af/testing"), "package.json"), "utf8"))
    expect(Object.keys(testing.peerDependencies).sort()).toEqual(["@refine-af/core", "@refine-af/tensor", "@refine-af/training", "effect"])
    for (const folder of published) expect(fs.existsSync(path.join(installed(`@refine-af/${path.basename(folder)}`), "src"))).toBe(false)
    expect(fs.existsSync(path.join(installed("@refine-af/core"), "dist/index.d.ts"))).toBe(true)
    expect(fs.realpathSync(path.join(app, "node_modules/.bin/refine-af"))).toBe(path.join(installed("@refine-af/cli"), "dist/bin/refine-af.js"))
    expect(fs.existsSync(path.join(installed("@refine-af/cli"), "recipes/quickstart.yaml"))).toBe(true)

    // Plain Node, no TypeScript loader: the packages are JavaScript.
    const plain = run(process.execPath, ["-e", "const core = await import('@refine-af/core'); console.log(typeof core.definePlugin, typeof core.defineStage)"], app)
    expect(plain.out.trim()).toBe("function function")
    expect(plain.code).toBe(0)

    // The installed CLI runs a recipe that names the installed plugin package.
    fs.writeFileSync(path.join(app, "recipe.yaml"), [
      "name: shout-installed",
      "seed: 1",
      "plugins: [refine-af-plugin-shout]",
      "stages:",
      "  hello: { _component_: shout/echo, text: installed, count: 4 }",
      ""
    ].join("\n"))
    const bin = path.join(app, "node_modules/.bin/refine-af")
    const runsDir = path.join(root, "runs")
    const recipeRun = run(bin, ["run", "recipe.yaml", "--runs-dir", runsDir, "--cache-dir", path.join(root, "cache")], app)
    expect(recipeRun.code, recipeRun.out).toBe(0)
    const [runDir] = fs.readdirSync(runsDir)
    expect(records(path.join(runsDir, runDir!), "hello")).toEqual([0, 1, 2, 3].map((index) => ({ index, text: "installed" })))
    const manifest = JSON.parse(fs.readFileSync(path.join(runsDir, runDir!, "manifest.json"), "utf8"))
    expect(JSON.stringify(manifest)).toContain("refine-af-plugin-shout")
    // Discovery lists it too (the TypeScript entry imported again in a fresh process).
    const listed = run(bin, ["plugins"], app)
    expect(listed.code, listed.out).toBe(0)
    expect(listed.out).toContain("refine-af-plugin-shout")
    expect(listed.out).toContain("shout/echo")

    fs.rmSync(root, { recursive: true, force: true })
  }, 420_000)
})
