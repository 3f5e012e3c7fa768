/** `resume <run> key=value`: overrides that leave completed stages alone are accepted, others refused naming the stage. */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { loadRecipe, resumeRunDir, runRecipe, type RunDirInvalid } from "../../src/index.ts"
import { fixturesDir } from "../recipe/support.ts"
import { tempDir } from "./fixtures.ts"

const recipeText = `name: fix-then-resume
plugins: [${path.join(fixturesDir, "plugins/multi")}]
stages:
  train:
    _component_: multi/train
    note: v1
  check:
    _component_: multi/flaky
    after: train
    fail: true
`

const failedRun = async () => {
  const dir = tempDir("resume-overrides")
  fs.writeFileSync(path.join(dir, "recipe.yaml"), recipeText)
  const recipe = await Effect.runPromise(loadRecipe(path.join(dir, "recipe.yaml")))
  const exit = await Effect.runPromiseExit(runRecipe(recipe, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache"), runId: "r" }))
  expect(exit._tag).toBe("Failure")
  return path.join(dir, "runs", "r")
}

describe("resume with overrides", () => {
  it("accepts an override of the failed stage only, and keeps it for later resumes", async () => {
    const runDir = await failedRun()
    const { manifest } = await Effect.runPromise(resumeRunDir(runDir, { overrides: ["stages.check.fail=false"] }))
    expect(manifest.status).toBe("completed")
    expect(manifest.stages["train"]!.status).toBe("completed")
    expect(manifest.stages["check"]!.status).toBe("completed")
    expect(fs.readFileSync(path.join(runDir, "recipe.yaml"), "utf8")).toMatch(/fail: false/)
  })

  it("refuses an override that changes a completed stage, naming it, and leaves the run as it was", async () => {
    const runDir = await failedRun()
    const before = fs.readFileSync(path.join(runDir, "recipe.yaml"), "utf8")
    const error = await Effect.runPromise(Effect.flip(resumeRunDir(runDir, { overrides: ["stages.train.note=v2", "stages.check.fail=false"] }))) as RunDirInvalid
    expect(error._tag).toBe("RunDirInvalid")
    expect(error.message).toBe("stages.train.note=v2 stages.check.fail=false would change completed stage \"train\" of this run, so the run could not be resumed with them")
    expect(error.fix).toContain("— completed stages come from the cache")
    expect(fs.readFileSync(path.join(runDir, "recipe.yaml"), "utf8")).toBe(before)
  })
})
