/**
 * The SFT resume guarantee through the CLI: `kill -9` the run at two points
 * of `sft/lora` (after 3 and 8 of 12 durable step records), `refine-af resume`
 * each time, and compare with an uninterrupted run: the same step records
 * (all but the wall-clock tokens_per_second) and a byte-identical adapter.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { adapterBytes, committedCount, onlyRunDir, records, runCli, startCli, tempDir, waitFor, withoutTiming } from "./cli.ts"

const recipe = "tests/recipes/sft-crash.yaml"
const steps = 12 // 3 training records (one of 4 held out) → 2 batches per epoch × 6 epochs
const env = (cacheDir: string, models: string) => ({ REFINE_AF_CACHE: cacheDir, REFINE_AF_MODELS: models, REFINE_AF_CHECKPOINT_MS: "50" })
const outputs = (runDir: string) => ({ records: records(runDir, "sft").map(withoutTiming), adapter: adapterBytes(runDir, "sft") })

describe("sft/lora: kill -9 and resume", () => {
  it("finishes with the records and adapter bytes of an uninterrupted run", async () => {
    const models = tempDir("sft-models")
    const referenceRuns = tempDir("sft-reference")
    const reference = await runCli(["run", recipe, "--runs-dir", referenceRuns, "--no-cache"], env(tempDir("sft-cache-ref"), models))
    expect(reference.code, reference.stderr).toBe(0)
    const expected = outputs(await onlyRunDir(referenceRuns))
    const total = expected.records.length
    expect(total).toBe(steps)

    const runsDir = tempDir("sft-killed")
    const cacheDir = tempDir("sft-cache")
    let runDir: string | undefined
    for (const [attempt, atLeast] of [3, 8].entries()) {
      const running = attempt === 0 ? startCli(["run", recipe, "--runs-dir", runsDir], env(cacheDir, models)) : startCli(["resume", runDir!], env(cacheDir, models))
      runDir ??= await onlyRunDir(runsDir)
      const dir = runDir
      await waitFor(() => committedCount(dir, "sft") >= atLeast, running, `${atLeast} durable SFT steps`)
      running.child.kill("SIGKILL")
      expect((await running.done).signal).toBe("SIGKILL")
      expect(fs.readdirSync(path.join(dir, "stages", "sft")).includes("adapter")).toBe(false)
    }
    const finished = await runCli(["resume", runDir!], env(cacheDir, models))
    expect(finished.code, finished.stderr).toBe(0)
    const actual = outputs(runDir!)
    expect(actual.records).toEqual(expected.records)
    expect(actual.adapter.equals(expected.adapter)).toBe(true)
  }, 600_000)
})
