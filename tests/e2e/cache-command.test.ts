/**
 * `refine-af cache` and `refine-af cache prune` through the CLI: the listing names what the demo
 * recipe cached, prune refuses to guess (exit 2), a dry run removes nothing, `--all` empties the
 * folder, and the next run makes every stage again (no cache hit) and completes; run folders keep
 * their outputs.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { onlyRunDir, runCli, tempDir } from "./cli.ts"

describe("refine-af cache", () => {
  it("lists, refuses a prune that names nothing, prunes dry and for real; the next run makes the stages again", async () => {
    const cacheDir = tempDir("cache-cmd")
    const runsDir = tempDir("cache-cmd-runs")
    const first = await runCli(["run", "recipes/examples/demo.yaml", "--runs-dir", runsDir, "--cache-dir", cacheDir])
    expect(first.code, first.stderr).toBe(0)
    const runDir = await onlyRunDir(runsDir)
    const outputs = fs.readdirSync(path.join(runDir, "stages"))

    const listing = await runCli(["cache", "--cache-dir", cacheDir])
    expect(listing.code, listing.stderr).toBe(0)
    expect(listing.stdout).toMatch(new RegExp(`^${cacheDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: \\d+ items`))
    expect(listing.stdout).toMatch(/stage outputs\s+4\s/)
    expect(listing.stdout).toContain("demo/lines")
    expect(listing.stdout).toContain("just now")

    const vague = await runCli(["cache", "prune", "--cache-dir", cacheDir])
    expect(vague.code).toBe(2)
    expect(vague.stderr).toContain("--older-than")
    const badAge = await runCli(["cache", "prune", "--older-than", "soon", "--cache-dir", cacheDir])
    expect([badAge.code, badAge.stderr.includes("is not a duration")]).toEqual([2, true])

    // Nothing is a month old; a dry --all names everything and removes nothing.
    const month = await runCli(["cache", "prune", "--older-than", "30d", "--cache-dir", cacheDir])
    expect(month.stdout).toContain("removed 0 items")
    const dry = await runCli(["cache", "prune", "--all", "--dry-run", "--cache-dir", cacheDir])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/would remove \d+ items/)
    expect(fs.readdirSync(cacheDir).length).toBeGreaterThan(0)
    const all = await runCli(["cache", "prune", "--all", "--cache-dir", cacheDir])
    expect(all.code, all.stderr).toBe(0)
    expect(fs.readdirSync(cacheDir)).toEqual([])
    expect(fs.readdirSync(path.join(runDir, "stages"))).toEqual(outputs)

    const again = await runCli(["run", "recipes/examples/demo.yaml", "--runs-dir", tempDir("cache-cmd-runs2"), "--cache-dir", cacheDir])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain("cache hits: 0/4")
  })
})
