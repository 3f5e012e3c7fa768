/**
 * `refine-af runs`: the runs folder's runs newest first, with status (a run whose process is gone
 * reads `interrupted`, not `running`), recipe, stages done and cache hits; a folder that is not
 * a run is named as such.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { onlyRunDir, runCli, tempDir } from "./cli.ts"

describe("refine-af runs", () => {
  it("lists each run with its live status, stages done and cache hits; names a folder that is not a run", async () => {
    const runsDir = tempDir("runs-cmd")
    const cacheDir = tempDir("runs-cmd-cache")
    expect((await runCli(["run", "recipes/examples/demo.yaml", "--runs-dir", runsDir, "--cache-dir", cacheDir])).code).toBe(0)
    const first = await onlyRunDir(runsDir)
    // A copy whose manifest says running, with no process holding it: a killed run.
    const killed = `${first}-killed`
    fs.cpSync(first, killed, { recursive: true })
    const manifest = JSON.parse(fs.readFileSync(path.join(killed, "manifest.json"), "utf8"))
    fs.writeFileSync(path.join(killed, "manifest.json"), JSON.stringify({ ...manifest, status: "running", startedAt: "2020-01-01T00:00:00.000Z", endedAt: undefined }))
    fs.mkdirSync(path.join(runsDir, "notes"))
    const second = await runCli(["run", "recipes/examples/demo.yaml", "--runs-dir", runsDir, "--cache-dir", cacheDir])
    expect(second.code).toBe(0)

    const listed = await runCli(["runs", "--runs-dir", runsDir])
    expect(listed.code, listed.stderr).toBe(0)
    const lines = listed.stdout.split("\n")
    expect(lines[0]).toMatch(/^run\s+status\s+recipe\s+started \(UTC\)\s+took\s+stages/)
    const rowOf = (name: string) => lines.find((line) => line.startsWith(`${name} `))!
    // Newest first: the cached second run, the first, then the killed copy that "started" in 2020.
    const order = lines.slice(1).filter((line) => line.trim() !== "" && !line.startsWith("details")).map((line) => line.split(/\s+/)[0])
    expect(order.indexOf(path.basename(first))).toBeLessThan(order.indexOf(path.basename(killed)))
    expect(order[0]).not.toBe(path.basename(first))
    expect(rowOf(path.basename(first))).toMatch(/completed\s+demo\s+.*\s4\/4\s*$/)
    expect(lines.find((line) => line.startsWith(order[0]!))).toMatch(/completed .* 4\/4\s+4 cached$/)
    expect(rowOf(path.basename(killed))).toMatch(/^\S+\s+interrupted\s/)
    expect(rowOf("notes")).toContain("no readable manifest.json")
  })
})
