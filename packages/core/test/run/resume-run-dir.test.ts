import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { loadRecipe, readCommitMarker, resumeRunDir, runRecipe } from "../../src/index.ts"
import { readJsonl, tempDir } from "./fixtures.ts"

const recipeText = `# resume fixture
name: counting
seed: 5
plugins:
  - ./fixture-plugin
stages:
  numbers:
    _component_: counting/numbers
    count: 150
    delay_ms: 2
`

/** Runs the fixture recipe and interrupts it once some records are committed; returns the run directory. */
const interruptedRun = async (): Promise<string> => {
  // The recipe lives beside the fixture plugin (relative plugin path); it is deleted before resuming.
  const recipeFile = path.join(import.meta.dirname, `resume-fixture-${process.pid}.tmp.yaml`)
  fs.writeFileSync(recipeFile, recipeText)
  try {
    const recipe = await Effect.runPromise(loadRecipe(recipeFile))
    const runsDir = tempDir("runs")
    const controller = new AbortController()
    const running = Effect.runPromiseExit(runRecipe(recipe, { runsDir, cache: false, signal: controller.signal, checkpoint: { everyRecords: 5 } }))
    const runDir = () => path.join(runsDir, fs.readdirSync(runsDir)[0] ?? "none")
    while (fs.readdirSync(runsDir).length === 0 || (readCommitMarker(path.join(runDir(), "stages/numbers")) as { count: number }).count < 10) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    controller.abort()
    expect(Exit.hasInterrupts(await running)).toBe(true)
    return runDir()
  } finally {
    fs.rmSync(recipeFile, { force: true })
  }
}

describe("resumeRunDir", () => {
  it("reloads the run's own recipe (relative plugin paths included) and finishes the run", async () => {
    const runDir = await interruptedRun()
    const resumed = await Effect.runPromise(resumeRunDir(runDir))
    expect(resumed.manifest.status).toBe("completed")
    expect(readJsonl(path.join(runDir, "stages/numbers/records.jsonl"))).toEqual(Array.from({ length: 150 }, (_, n) => ({ n })))
    const again = await Effect.runPromise(resumeRunDir(runDir))
    expect(again.manifest.attempts).toHaveLength(2) // a completed run is left alone
  })
})
