/**
 * Storage conditions during a run, drilled without filling a disk or dropping privileges:
 * `fixtures/fs-fault.mjs` (loaded with `node --import`) makes the chosen file-system call fail
 * with ENOSPC or EROFS, and a run folder is deleted while its first stage is writing. Each must
 * end with exit 1, name the condition and the path, and say how to continue; after ENOSPC the
 * suggested `resume` finishes with every record.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { committedCount, onlyRunDir, repoRoot, runCli, startCli, tempDir, waitFor } from "./cli.ts"

const faultPreload = path.join(repoRoot, "tests/e2e/fixtures/fs-fault.mjs")
const withFault = (fault: string, cacheDir: string) => ({
  REFINE_AF_CACHE: cacheDir,
  NODE_OPTIONS: `${process.env["NODE_OPTIONS"] ?? ""} --import ${faultPreload}`.trim(),
  REFINE_AF_TEST_FS_FAULT: fault,
  REFINE_AF_CHECKPOINT_RECORDS: "20"
})
const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/)

describe("storage faults during a run", () => {
  it("disk full: names the condition and the file, exit 1, and the suggested resume finishes the run", async () => {
    const runsDir = tempDir("enospc")
    const cacheDir = tempDir("enospc-cache")
    // records.jsonl of the first stage accepts three checkpoint writes, then the disk is "full".
    const failed = await runCli(["run", "recipes/examples/demo.yaml", "stages.lines.delay_ms=1", "--runs-dir", runsDir], withFault("write:ENOSPC:records.jsonl:3", cacheDir))
    expect(failed.code, failed.stderr).toBe(1)
    const runDir = await onlyRunDir(runsDir)
    expect(failed.stderr).toContain(`error: the disk is full (ENOSPC) writing ${path.join(runDir, "stages/lines/records.jsonl")}`)
    expect(failed.stderr).toContain(`free space on the disk holding`)
    expect(failed.stderr).toMatch(new RegExp(`then continue with: (npx )?refine-af resume ${runDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`))
    expect(failed.stderr).not.toContain("please report it")
    noStackTrace(failed.stderr)
    expect(committedCount(runDir, "lines")).toBe(60)

    const resumed = await runCli(["resume", runDir], { REFINE_AF_CACHE: cacheDir })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(fs.readFileSync(path.join(runDir, "stages/lines/records.jsonl"), "utf8").trimEnd().split("\n")).toHaveLength(200)
  })

  it("a cache that cannot be written: the run finishes (exit 0) and says on the console, per stage, that its output was not cached", async () => {
    const cacheDir = tempDir("cache-full")
    const result = await runCli(["run", "recipes/examples/demo.yaml", "--runs-dir", tempDir("cache-full-runs")], withFault(`mkdir:ENOSPC:${cacheDir}/:0`, cacheDir))
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/warning \[lines\]: its output could not be stored in the cache \(ENOSPC: no space left on device, .*\); the run goes on, and a later run computes this stage again/)
    noStackTrace(result.stderr)
  })

  it("read-only runs folder: names the condition and the folder, exit 1, no 'please report it'", async () => {
    const parent = tempDir("erofs")
    const result = await runCli(["run", "recipes/examples/demo.yaml", "--runs-dir", path.join(parent, "runs")], withFault(`mkdir:EROFS:${parent}:0`, tempDir("erofs-cache")))
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toMatch(new RegExp(`error: the file system is read-only \\(EROFS\\) writing ${parent}/runs`))
    expect(result.stderr).toContain(`make ${parent} writable, or choose another folder (--runs-dir, --cache-dir)`)
    expect(result.stderr).not.toContain("please report it")
    noStackTrace(result.stderr)
  })

  it("run folder deleted mid-run: says so (not a bare ENOENT), exit 1, and how to start again", async () => {
    const runsDir = tempDir("deleted")
    const running = startCli(["run", "recipes/examples/demo.yaml", "stages.lines.delay_ms=20", "--runs-dir", runsDir], { REFINE_AF_CACHE: tempDir("deleted-cache"), REFINE_AF_CHECKPOINT_RECORDS: "5" })
    const runDir = await onlyRunDir(runsDir)
    await waitFor(() => committedCount(runDir, "lines") >= 5, running, "the first records")
    fs.rmSync(runDir, { recursive: true, force: true })
    const result = await running.done
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toContain(`error: the run folder ${runDir} was deleted or moved while the run was going`)
    expect(result.stderr).toContain("run the recipe again; stages that had finished come from the cache")
    noStackTrace(result.stderr)
  })
})
