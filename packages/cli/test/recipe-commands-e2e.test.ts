/**
 * End to end: the recipe commands as a user runs them, in a child process,
 * checking exit codes and what reaches stdout/stderr (one line per problem,
 * file:line:column, never a stack trace). Uses the real `refine-af` binary
 * when main.ts wires these commands, else a test entry with the same error
 * reporting.
 */
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

const here = path.dirname(fileURLToPath(import.meta.url))
const cliRoot = path.resolve(here, "..")
const coreFixtures = path.resolve(cliRoot, "../core/test/fixtures")
const wiredInMain = readFileSync(path.join(cliRoot, "src/cli.ts"), "utf8").includes("validateCommand")
const entry = wiredInMain ? path.join(cliRoot, "src/main.ts") : path.join(here, "support/recipe-commands-entry.ts")
const scratch = mkdtempSync(path.join(tmpdir(), "refine-af-cli-"))

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const refineAf = (...args: Array<string>) => {
  const result = spawnSync(process.execPath, ["--import", "tsx", entry, ...args], { cwd: coreFixtures, encoding: "utf8", timeout: 60_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

const stackTrace = /^\s+at .+:\d+:\d+\)?$/m

/** Each child process starts tsx and imports Effect: seconds on a busy 2-core machine. */
const spawnTimeout = { timeout: 120_000 }

describe(`refine-af recipe commands (${wiredInMain ? "main.ts" : "test entry"})`, () => {
  it("validate: exit 2 with one file:line:column line per problem and no stack trace", spawnTimeout, () => {
    const { code, stdout, stderr } = refineAf("validate", "malformed/many-problems.yaml")
    expect(code).toBe(2)
    expect(stdout).toBe("")
    const lines = stderr.trimEnd().split("\n")
    expect(lines.pop()).toBe("fix the problems above (in the recipe, or in a plugin's code where they point there) and run again — completed stages come from the cache")
    expect(lines.map((line) => /^malformed\/many-problems\.yaml:(\d+:\d+) error: /.exec(line)?.[1])).toEqual(["10:7", "12:3", "14:5", "17:18", "21:14", "22:5"])
    expect(stderr).toContain('unknown component "text/line"; did you mean "text/lines"?')
    expect(stderr).not.toMatch(stackTrace)
  })

  it("validate: ok line and exit 0 for a valid recipe, overrides applied", spawnTimeout, () => {
    const ok = refineAf("validate", "valid/full.yaml", "seed=3", "stages.gen.max_instructions=50")
    expect([ok.code, ok.stdout.trim()]).toEqual([0, "ok: 4 stages, 2 resources"])
    const broken = refineAf("validate", "valid/full.yaml", "stages.gen.max_instructions=0")
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/^override "stages\.gen\.max_instructions=0":1:29 error: /)
  })

  it("schema --out writes a JSON Schema file", spawnTimeout, () => {
    const out = path.join(scratch, "recipe.schema.json")
    const { code } = refineAf("schema", "valid/full.yaml", "--out", out)
    expect(code).toBe(0)
    expect(existsSync(out)).toBe(true)
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({ $schema: "https://json-schema.org/draft/2020-12/schema" })
  })

  it("schema takes the recipe as --recipe too, as plugins does; with nothing to go on it is a usage error", spawnTimeout, () => {
    const positional = refineAf("schema", "valid/full.yaml")
    const flagged = refineAf("schema", "--recipe", "valid/full.yaml")
    expect(flagged.code).toBe(0)
    expect(flagged.stdout).toBe(positional.stdout)
    const none = refineAf("schema")
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("error: no recipe or plugin given")
    expect(none.stderr).not.toMatch(stackTrace)
  })

  it("a reader that closes the pipe early (| head -1) is no failure: no stack trace, the command's own exit code", spawnTimeout, () => {
    // A shell pipeline: head stops after 20 bytes of the ~80 KB listing, later writes hit a closed pipe.
    const script = `"${process.execPath}" --import tsx "${entry}" plugins | head -c 20 >/dev/null; echo "exit \${PIPESTATUS[0]}"`
    const result = spawnSync("bash", ["-c", script], { cwd: coreFixtures, encoding: "utf8", timeout: 60_000 })
    expect(result.stdout.trim()).toBe("exit 0")
    expect(result.stderr).not.toContain("EPIPE")
    expect(result.stderr).not.toMatch(stackTrace)
  })

  it("plugins with no arguments lists the installed plugins (workspace packages marked as plugins)", spawnTimeout, () => {
    const { code, stdout, stderr } = refineAf("plugins")
    expect(code).toBe(0)
    expect(stdout).toMatch(/^demo \S+ +\(@refine-af\/plugin-demo@/m)
    expect(stdout).toContain("  self-instruct/classify  (stage · transform)")
    expect(stdout).not.toContain("@refine-af/core@")
    expect(stderr).not.toMatch(stackTrace)
  })

  it("recipes ls from an installed CLI (outside the repository) lists the recipes bundled into the package", spawnTimeout, () => {
    // A fake install inside the repository, so the CLI's dependencies (effect, tsx, core) still resolve.
    const project = mkdtempSync(path.join(here, ".tmp-install-"))
    try {
      const installed = path.join(project, "node_modules/@refine-af/cli")
      for (const part of ["bin", "src", "package.json"]) cpSync(path.join(cliRoot, part), path.join(installed, part), { recursive: true })
      const bundle = spawnSync(process.execPath, [path.join(cliRoot, "scripts/bundle-recipes.mjs"), installed], { encoding: "utf8" })
      expect(bundle.status).toBe(0)
      // Only the bundled copy has this recipe, so listing it proves where the list came from.
      writeFileSync(path.join(installed, "recipes/only-in-bundle.yaml"), "# only in the bundle\nname: only\nplugins: []\n")
      const { status, stdout, stderr } = spawnSync(process.execPath, [path.join(installed, "bin/refine-af.js"), "recipes", "ls"], { cwd: scratch, encoding: "utf8", timeout: 60_000 })
      expect(stderr).not.toMatch(stackTrace)
      expect(status).toBe(0)
      expect(stdout).toMatch(/^only-in-bundle +only in the bundle$/m)
      expect(stdout).toMatch(/^quickstart /m)
    } finally {
      rmSync(project, { recursive: true, force: true })
    }
  })

  it("plugins: a missing package is a usage error naming npm install, without a stack trace", spawnTimeout, () => {
    const { code, stderr } = refineAf("plugins", "@refine-af/not-installed")
    expect(code).toBe(2)
    expect(stderr).toContain("npm install @refine-af/not-installed")
    expect(stderr).not.toMatch(stackTrace)
  })
})
