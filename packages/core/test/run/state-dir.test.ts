/** `StageContext.stateDir`: trainer state kept across resume, outside the output hash, dropped when the stage changes. */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { defineStage, hashStageDir, resumeRun, runRecipe, StageError } from "../../src/index.ts"
import { makeRecipe, readJsonl, tempDir } from "./fixtures.ts"

/** Fail (once) when about to run this step; reset by each test. */
let failAtStep: number | undefined

/** A toy trainer following the resume contract: state file per step, one record per step. */
const trainer = defineStage({
  role: "trainer",
  description: "counts steps, checkpointing to stateDir",
  deterministic: true,
  options: Schema.Struct({ steps: Schema.Number, lr: Schema.Number }),
  run: (ctx) =>
    Effect.gen(function*() {
      const stateFile = path.join(ctx.stateDir, "state.json")
      const start = fs.existsSync(stateFile) ? (JSON.parse(fs.readFileSync(stateFile, "utf8")) as { step: number }).step : 0
      for (let step = start; step < ctx.options.steps; step++) {
        if (step === failAtStep) {
          failAtStep = undefined
          return yield* new StageError({ stage: ctx.name, message: "simulated crash" })
        }
        fs.writeFileSync(`${stateFile}.tmp`, JSON.stringify({ step: step + 1, lr: ctx.options.lr }))
        fs.renameSync(`${stateFile}.tmp`, stateFile)
        if (step >= ctx.output.resumedCount) yield* ctx.output.append([{ step, startedFrom: start }])
        yield* ctx.output.checkpoint()
      }
      fs.writeFileSync(path.join(ctx.dir, "adapter.txt"), `trained ${ctx.options.steps} steps at ${ctx.options.lr}`)
    })
})

const recipeWith = (lr: number) => makeRecipe({ stages: { train: { component: trainer, options: { steps: 5, lr } } } })

const firstAttempt = async () => {
  failAtStep = 3
  const runsDir = tempDir("runs")
  const cacheDir = tempDir("cache")
  const exit = await Effect.runPromiseExit(runRecipe(recipeWith(0.1), { runsDir, cacheDir, runId: "r" }))
  expect(exit._tag).toBe("Failure")
  const runDir = path.join(runsDir, "r")
  expect(JSON.parse(fs.readFileSync(path.join(runDir, "state/train/state.json"), "utf8"))).toEqual({ step: 3, lr: 0.1 })
  return { runDir, cacheDir }
}

describe("stateDir", () => {
  it("is kept across resume of the same stage, and is not part of the output", async () => {
    const { runDir, cacheDir } = await firstAttempt()
    const { manifest } = await Effect.runPromise(resumeRun(runDir, recipeWith(0.1), { cacheDir }))
    expect(manifest.stages["train"]!.status).toBe("completed")
    const records = readJsonl(path.join(runDir, "stages/train/records.jsonl"))
    expect(records.map((record) => record["step"])).toEqual([0, 1, 2, 3, 4])
    expect(records.slice(3).map((record) => record["startedFrom"])).toEqual([3, 3])
    expect(fs.existsSync(path.join(runDir, "stages/train/state.json"))).toBe(false)
    // Rewriting the state changes nothing the cache or a downstream stage sees.
    const before = hashStageDir(path.join(runDir, "stages/train"))
    fs.writeFileSync(path.join(runDir, "state/train/state.json"), "{}")
    expect(hashStageDir(path.join(runDir, "stages/train"))).toBe(before)
    expect(manifest.stages["train"]!.outputHash).toBe(before)
  })

  it("is emptied when the stage's identity changed before the resume", async () => {
    const { runDir, cacheDir } = await firstAttempt()
    const { manifest } = await Effect.runPromise(resumeRun(runDir, recipeWith(0.2), { cacheDir }))
    expect(manifest.stages["train"]!.status).toBe("completed")
    const records = readJsonl(path.join(runDir, "stages/train/records.jsonl"))
    expect(records.map((record) => [record["step"], record["startedFrom"]])).toEqual([[0, 0], [1, 0], [2, 0], [3, 0], [4, 0]])
    expect(fs.readFileSync(path.join(runDir, "stages/train/adapter.txt"), "utf8")).toBe("trained 5 steps at 0.2")
  })

  it("starts empty in a fresh run", async () => {
    failAtStep = undefined
    const runsDir = tempDir("runs")
    const { runDir } = await Effect.runPromise(runRecipe(recipeWith(0.1), { runsDir, cacheDir: tempDir("cache") }))
    expect(readJsonl(path.join(runDir, "stages/train/records.jsonl")).every((record) => record["startedFrom"] === 0)).toBe(true)
  })
})
