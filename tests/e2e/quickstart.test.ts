/**
 * The quickstart recipe end to end through the CLI, as a new user runs it on
 * a fresh clone: the built-in tiny model is written on first use, the real
 * pipeline (Self-Instruct bootstrap → classify → instances → SuperNI
 * evaluation) completes, a second run is all cache hits, and `kill -9` inside
 * the bootstrap stage followed by `refine-af resume` ends with exactly the
 * records of the uninterrupted run.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { committedCount, onlyRunDir, runCli, stageStatus, startCli, tempDir, waitFor } from "./cli.ts"

const recipe = "recipes/quickstart.yaml"
// Smaller evaluation and instance budgets than the recipe's, to keep the suite short on 2 cores.
const overrides = ["stages.evaluation.maxInstances=1", "stages.dataset.sampling.maxNewTokens=16"]
const stages = ["instructions", "classified", "dataset", "evaluation"] as const
// One models folder for the file: the first run writes the built-in model (the fresh-clone path), later runs reuse it.
const modelsDir = tempDir("models")
// The built-in model is ~50 MB on disk.
afterAll(() => fs.rmSync(modelsDir, { recursive: true, force: true }))
const env = (cacheDir: string) => ({ REFINE_AF_CACHE: cacheDir, REFINE_AF_MODELS: modelsDir })

const readRecords = (runDir: string, stage: string): Array<Record<string, unknown>> => {
  const text = fs.readFileSync(path.join(runDir, "stages", stage, "records.jsonl"), "utf8")
  return text.trimEnd() === "" ? [] : text.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
}
const manifestOf = (runDir: string) =>
  JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")) as {
    status: string
    attempts: Array<unknown>
    stages: Record<string, { status: string; records: number; metrics: Record<string, number> }>
  }

let referenceRun: string | undefined

describe("quickstart", () => {
  it("runs the real pipeline on the built-in model, then hits the cache for every stage", async () => {
    const runsDir = tempDir("quickstart")
    const cacheDir = tempDir("quickstart-cache")
    const first = await runCli(["run", recipe, ...overrides, "--runs-dir", runsDir], env(cacheDir))
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain("completed")
    const runDir = await onlyRunDir(runsDir)
    referenceRun = runDir
    expect(fs.readdirSync(modelsDir)).toEqual(["tiny-qwen2-seed0-v1"])

    const manifest = manifestOf(runDir)
    expect(manifest.status).toBe("completed")
    for (const stage of stages) expect(manifest.stages[stage]?.status).toBe("completed")

    // Bootstrap: bounded requests, at least one accepted instruction, and per-filter counts that add up.
    const instructions = readRecords(runDir, "instructions")
    const bootstrap = manifest.stages["instructions"]!.metrics
    expect(instructions.length).toBeGreaterThan(0)
    expect(instructions.length).toBeLessThanOrEqual(8)
    expect(bootstrap["accepted"]).toBe(instructions.length)
    expect(bootstrap["responses"]).toBeLessThanOrEqual(4 * 8)
    const rejected = ["too_short", "too_long", "blacklisted_keyword", "forbidden_prefix", "leading_punctuation", "leading_non_ascii", "too_similar"]
      .reduce((sum, reason) => sum + bootstrap[reason]!, 0)
    expect(rejected + bootstrap["accepted"]!).toBe(bootstrap["candidates"])
    for (const record of instructions) expect(typeof record["instruction"]).toBe("string")

    // Classify marks every instruction; instances read every one of them.
    const classified = readRecords(runDir, "classified")
    expect(classified.map((record) => record["instruction"])).toEqual(instructions.map((record) => record["instruction"]))
    for (const record of classified) expect(record).toHaveProperty("is_classification")
    expect(manifest.stages["dataset"]!.metrics["tasks"]).toBe(instructions.length)
    // Alpaca-style rows (a random model rarely writes the Input:/Output: format, so there may be none).
    for (const row of readRecords(runDir, "dataset")) expect(Object.keys(row)).toEqual(expect.arrayContaining(["instruction", "input", "output"]))

    // Evaluation: one instance per task of the bundled 8-task set, with reports.
    const evaluation = path.join(runDir, "stages", "evaluation")
    for (const file of ["report.md", "report.html", "metrics.json"]) expect(fs.existsSync(path.join(evaluation, file)), file).toBe(true)
    const metrics = JSON.parse(fs.readFileSync(path.join(evaluation, "metrics.json"), "utf8")) as { summary: { overall: { instances: number; tasks: number } } }
    expect(metrics.summary.overall).toMatchObject({ instances: 8, tasks: 8 })
    expect(readRecords(runDir, "evaluation")).toHaveLength(8)

    fs.renameSync(runDir, `${runDir}-first`)
    referenceRun = `${runDir}-first`
    const second = await runCli(["run", recipe, ...overrides, "--runs-dir", runsDir], env(cacheDir))
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toContain("cache hits: 4/4")
  })

  it("kill -9 during the bootstrap, then resume: the same records as the uninterrupted run", async () => {
    expect(referenceRun, "needs the first test's run").toBeDefined()
    const runsDir = tempDir("quickstart-killed")
    const cacheDir = tempDir("quickstart-killed-cache")
    const running = startCli(["run", recipe, ...overrides, "--runs-dir", runsDir], env(cacheDir))
    const runDir = await onlyRunDir(runsDir)
    await waitFor(() => committedCount(runDir, "instructions") >= 1 && stageStatus(runDir, "instructions") === "running", running, "the first durable instruction")
    running.child.kill("SIGKILL")
    expect((await running.done).signal).toBe("SIGKILL")
    expect(stageStatus(runDir, "classified")).not.toBe("completed")

    const resumed = await runCli(["resume", runDir], env(cacheDir))
    expect(resumed.code, resumed.stderr).toBe(0)
    const manifest = manifestOf(runDir)
    expect(manifest.status).toBe("completed")
    expect(manifest.attempts).toHaveLength(2)
    for (const stage of stages) expect(readRecords(runDir, stage), stage).toEqual(readRecords(referenceRun!, stage))
  })
})
