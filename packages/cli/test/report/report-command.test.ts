/**
 * `refine-af report <run-dir>` as a user runs it (a child process): exit 2 with the fix for a
 * folder that is not a run, exit 0 and the three files for a run killed mid-way.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { decodeRunReport } from "@refine-af/core"
import { syntheticRun } from "./synthetic-run.ts"

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/main.ts")
const refineAf = (...args: Array<string>) => {
  const result = spawnSync(process.execPath, ["--import", "tsx", main, ...args], { encoding: "utf8", timeout: 120_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe("refine-af report", () => {
  it("exits 2 naming the folder and the fix when it is not a run folder", { timeout: 150_000 }, () => {
    const missing = path.join(fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "refine-af-noreport-")), "no-such-run")
    const { code, stdout, stderr } = refineAf("report", missing)
    expect(code).toBe(2)
    expect(stdout).toBe("")
    expect(stderr).toContain(`${missing} is not a run directory (it does not exist)`)
    expect(stderr).toContain("fix: pass a folder created by `refine-af run`")
    expect(stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)
  })

  it("writes report.html, report.md and report.json for a run killed mid-way (shown as interrupted)", { timeout: 150_000 }, () => {
    const { runDir, manifest } = syntheticRun()
    fs.writeFileSync(path.join(runDir, "manifest.json"), JSON.stringify({ ...manifest, status: "running", error: undefined }))
    const { code, stdout, stderr } = refineAf("report", runDir)
    expect(stderr).toBe("")
    expect(code).toBe(0)
    for (const file of ["report.html", "report.md", "report.json"]) expect(stdout).toContain(path.join(runDir, file))
    const report = decodeRunReport(JSON.parse(fs.readFileSync(path.join(runDir, "report.json"), "utf8")))
    expect(report.run.status).toBe("interrupted")
  })
})
