/**
 * Exit codes and error messages of the CLI: 0 ok, 2 usage or recipe errors,
 * 1 runtime failures; one clean message, no stack trace.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { onlyRunDir, runCli, tempDir } from "./cli.ts"

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/)

describe("exit codes", () => {
  it("runs the demo recipe (0), then hits the cache for every stage", async () => {
    const runsDir = tempDir("quick")
    const env = { REFINE_AF_CACHE: tempDir("cache") }
    const eventTypesOf = (runDir: string) =>
      fs.readFileSync(path.join(runDir, "events.jsonl"), "utf8").trimEnd().split("\n").map((line) => (JSON.parse(line) as { type: string }).type)
    const first = await runCli(["run", "recipes/examples/demo.yaml", "--runs-dir", runsDir], env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain("completed")
    const firstRun = await onlyRunDir(runsDir)
    // The resource is made for the stage that uses it, and released when the run ends.
    expect(eventTypesOf(firstRun).filter((type) => type.startsWith("resource_"))).toEqual(["resource_start", "resource_made", "resource_ready", "resource_released"])
    fs.renameSync(firstRun, `${firstRun}-first`)
    const second = await runCli(["run", "recipes/examples/demo.yaml", "--runs-dir", runsDir], env)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toContain("cache hits: 4/4")
    const secondRun = fs.readdirSync(runsDir).map((name) => path.join(runsDir, name)).find((dir) => !dir.endsWith("-first"))!
    expect(eventTypesOf(secondRun).filter((type) => type.startsWith("resource_"))).toEqual([]) // cache hits need no resource
  })

  it("--help is 0 for the root and for run", async () => {
    const root = await runCli(["--help"])
    expect(root.code).toBe(0)
    expect(root.stdout).toContain("resume")
    const run = await runCli(["run", "--help"])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("--no-cache")
  })

  it("usage and recipe errors are 2 with a clean message", async () => {
    const missing = await runCli(["run", "does/not/exist.yaml", "--runs-dir", tempDir("x")])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("exist.yaml")
    noStackTrace(missing.stderr)

    const badOverride = await runCli(["run", "recipes/examples/demo.yaml", "stages.lines.count=many", "--runs-dir", tempDir("x")])
    expect(badOverride.code).toBe(2)
    expect(badOverride.stderr).toContain("count")
    noStackTrace(badOverride.stderr)

    const unknownCommand = await runCli(["frobnicate"])
    expect(unknownCommand.code).toBe(2)

    const notARun = await runCli(["resume", tempDir("empty")])
    expect(notARun.code).toBe(2)
    expect(notARun.stderr).toContain("not a run directory")
    noStackTrace(notARun.stderr)
  })

  it("inspect on a run whose manifest.json is null or wrongly typed is 2 with the field named, no TypeError", async () => {
    const runDir = path.join(tempDir("bad-manifest"), "demo-20260101-000000-abcd")
    fs.mkdirSync(runDir)
    fs.writeFileSync(path.join(runDir, "manifest.json"), "null")
    const nullManifest = await runCli(["inspect", runDir])
    expect(nullManifest.code, nullManifest.stderr).toBe(2)
    expect(nullManifest.stderr).toContain("is not a valid run manifest")
    expect(nullManifest.stderr).not.toContain("TypeError")
    noStackTrace(nullManifest.stderr)
  })

  it("a failing stage is 1, names the stage and the fix, and leaves a failed manifest", async () => {
    const runsDir = tempDir("fail")
    const result = await runCli(["run", "recipes/examples/demo.yaml", "stages.lines.fail_at=10", "--runs-dir", runsDir], { REFINE_AF_CACHE: tempDir("cache") })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('stage "lines"')
    expect(result.stderr).toContain("fix:")
    noStackTrace(result.stderr)
    const runDir = await onlyRunDir(runsDir)
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8"))
    expect(manifest.status).toBe("failed")
    expect(manifest.stages.lines.status).toBe("failed")
  })
})
