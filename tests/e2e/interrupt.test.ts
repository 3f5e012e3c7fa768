/**
 * Ctrl-C (SIGINT) ends a run cleanly: exit code 130, committed records kept,
 * manifest `interrupted`, a resume hint; `refine-af resume` then finishes it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { committedCount, onlyRunDir, records, runCli, startCli, tempDir, waitFor } from "./cli.ts"

/** A 600-line crash.yaml run sent `signal` once `committed` records of its first stage are durable. */
const interruptedRun = async (signal: NodeJS.Signals, committed: number) => {
  const runsDir = tempDir(signal.toLowerCase())
  const env = { REFINE_AF_CACHE: tempDir("cache"), REFINE_AF_CHECKPOINT_RECORDS: "50" }
  const running = startCli(["run", "tests/recipes/crash.yaml", "--runs-dir", runsDir, "stages.lines.count=600", "stages.lines.delay_ms=5"], env)
  const runDir = await onlyRunDir(runsDir)
  await waitFor(() => committedCount(runDir, "lines") >= committed, running, `${committed} committed records`)
  running.child.kill(signal)
  return { result: await running.done, runDir, env }
}

describe("Ctrl-C", () => {
  it("interrupts with exit code 130 and the run resumes to completion", async () => {
    const { result, runDir, env } = await interruptedRun("SIGINT", 100)
    expect(result.code, result.stderr).toBe(130)
    expect(result.stderr).toContain(`refine-af resume`)
    expect(result.stderr).toContain("interrupting (Ctrl-C again to force)")
    expect(result.stderr).not.toMatch(/\n\s+at /) // no stack trace

    const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8"))
    expect(manifest.status).toBe("interrupted")
    expect(manifest.stages.lines.status).toBe("interrupted")
    const kept = committedCount(runDir, "lines")
    expect(kept).toBeGreaterThanOrEqual(100)
    expect(kept).toBeLessThan(600)

    const resumed = await runCli(["resume", runDir], env)
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(records<{ index: number }>(runDir, "lines").map((row) => row.index)).toEqual(Array.from({ length: 600 }, (_, index) => index))
    const events = fs.readFileSync(path.join(runDir, "events.jsonl"), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as { type: string; resumedCount?: number; stage?: string })
    expect(events.find((event) => event.type === "stage_start" && event.stage === "lines" && event.resumedCount === kept)).toBeDefined()
  })

  it("SIGTERM interrupts the same way and says which signal came (no Ctrl-C was pressed)", async () => {
    const { result, runDir } = await interruptedRun("SIGTERM", 50)
    expect(result.code, result.stderr).toBe(130)
    expect(result.stderr).toContain("SIGTERM received: interrupting (send it again, or Ctrl-C, to force)")
    expect(result.stderr).not.toContain("Ctrl-C again")
    expect(JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")).status).toBe("interrupted")
  })
})
