/**
 * The resume guarantee, end to end: `kill -9` the CLI inside each stage
 * (after 5 %, 40 % and 90 % of the generated records, in the middle of the
 * transform, and during the last stage), `refine-af resume` each time, and
 * compare with an uninterrupted run: no lost and no duplicated record, and
 * byte-identical outputs.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { decodeRunReport } from "@refine-af/core"
import { committedCount, onlyRunDir, runCli, stageStatus, startCli, tempDir, waitFor } from "./cli.ts"

const recipe = "tests/recipes/crash.yaml"
const total = 2000
// Frequent checkpoints so that kills land between (and during) many of them.
const env = (cacheDir: string) => ({ REFINE_AF_CACHE: cacheDir, REFINE_AF_CHECKPOINT_RECORDS: "37", REFINE_AF_CHECKPOINT_MS: "50" })
const stages = ["lines", "upper", "stats"] as const
const outputFiles = (runDir: string) =>
  Object.fromEntries(stages.flatMap((stage) => {
    const dir = path.join(runDir, "stages", stage)
    return fs.readdirSync(dir).filter((name) => !name.startsWith(".")).map((name) => [`${stage}/${name}`, fs.readFileSync(path.join(dir, name), "utf8")])
  }))

describe("kill -9 and resume", () => {
  it("finishes with no lost or duplicated record and output identical to an uninterrupted run", async () => {
    const referenceRuns = tempDir("reference")
    const reference = await runCli(["run", recipe, "--runs-dir", referenceRuns, "--no-cache"], env(tempDir("cache-ref")))
    expect(reference.code, reference.stderr).toBe(0)
    const expected = outputFiles(await onlyRunDir(referenceRuns))
    expect(Object.keys(expected).sort()).toEqual(["lines/records.jsonl", "stats/records.jsonl", "stats/report.json", "upper/records.jsonl"])

    const runsDir = tempDir("killed")
    const cacheDir = tempDir("cache")
    const killPoints: Array<{ readonly what: string; readonly reached: (runDir: string) => boolean }> = [
      { what: "5% of lines", reached: (runDir) => committedCount(runDir, "lines") >= total * 0.05 },
      { what: "40% of lines", reached: (runDir) => committedCount(runDir, "lines") >= total * 0.4 },
      { what: "90% of lines", reached: (runDir) => committedCount(runDir, "lines") >= total * 0.9 },
      { what: "50% of upper", reached: (runDir) => committedCount(runDir, "upper") >= total * 0.5 },
      { what: "the last stage", reached: (runDir) => stageStatus(runDir, "stats") === "running" }
    ]
    let runDir: string | undefined
    const committedAtKill: Array<number> = []
    for (const [attempt, point] of killPoints.entries()) {
      const running = attempt === 0
        ? startCli(["run", recipe, "--runs-dir", runsDir], env(cacheDir))
        : startCli(["resume", runDir!], env(cacheDir))
      runDir ??= await onlyRunDir(runsDir)
      const dir = runDir
      await waitFor(() => point.reached(dir), running, point.what)
      running.child.kill("SIGKILL")
      const result = await running.done
      expect(result.signal).toBe("SIGKILL")
      committedAtKill.push(committedCount(dir, "lines") + committedCount(dir, "upper"))
    }
    // Each kill landed later than the previous one: every resume made progress.
    for (let k = 1; k < committedAtKill.length; k++) expect(committedAtKill[k]!).toBeGreaterThanOrEqual(committedAtKill[k - 1]!)

    const finished = await runCli(["resume", runDir!], env(cacheDir))
    expect(finished.code, finished.stderr).toBe(0)
    const actual = outputFiles(runDir!)
    for (const stage of ["lines", "upper"]) {
      const indices = actual[`${stage}/records.jsonl`]!.trimEnd().split("\n").map((line) => (JSON.parse(line) as { index: number }).index)
      expect(indices).toEqual(Array.from({ length: total }, (_, index) => index))
    }
    expect(actual).toEqual(expected)

    const manifest = JSON.parse(fs.readFileSync(path.join(runDir!, "manifest.json"), "utf8"))
    expect(manifest.status).toBe("completed")
    expect(manifest.attempts).toHaveLength(killPoints.length + 1)
    // The killed attempts read as interrupted, not as still running.
    expect(manifest.attempts.map((attempt: { status: string }) => attempt.status)).toEqual([...killPoints.map(() => "interrupted"), "completed"])
    // The last resume wrote the run report, with every attempt counted.
    const report = decodeRunReport(JSON.parse(fs.readFileSync(path.join(runDir!, "report.json"), "utf8")))
    expect([report.run.status, report.run.attempts]).toEqual(["completed", killPoints.length + 1])
    expect(manifest.stages.stats.metrics.records).toBe(total)

    const inspect = await runCli(["inspect", runDir!])
    expect(inspect.code).toBe(0)
    expect(inspect.stdout).toContain("completed")
  })
})
