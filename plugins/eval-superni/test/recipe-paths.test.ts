/** `tasks` (and `split`) written relative in the recipe are read from the recipe's folder (`ctx.recipeDir`). */
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { bundledTaskSet, EvaluateOptions, evaluateStage, readTaskJsonl } from "../src/index.ts"
import { makeMemoryStage } from "./support/memoryContext.ts"
import { runStage, runStageExit } from "./support/runStage.ts"
import { scriptedModel } from "./support/scriptedModel.ts"

describe("superni/evaluate relative paths", () => {
  it("reads `tasks: data/tasks.jsonl` next to the recipe, not in the cwd", async () => {
    const recipeDir = mkdtempSync(path.join(tmpdir(), "superni-recipe-"))
    mkdirSync(path.join(recipeDir, "data"))
    copyFileSync(bundledTaskSet, path.join(recipeDir, "data/tasks.jsonl"))
    const [first] = await Effect.runPromise(readTaskJsonl({ file: bundledTaskSet, maxInstances: 2 }))
    const options = Schema.decodeUnknownSync(EvaluateOptions)({ tasks: "data/tasks.jsonl", onlyTasks: [first!.name], maxInstances: 2 })
    const model = () => scriptedModel("constant", () => "Yes")

    const stage = makeMemoryStage({ name: "eval", options, uses: { model: model() } })
    await runStage(evaluateStage, { ...stage.ctx, recipeDir })
    expect(stage.records.map((record) => record["task"])).toEqual([first!.name, first!.name])

    const lost = makeMemoryStage({ name: "eval", options, uses: { model: model() } })
    const { exit, failed } = await runStageExit(evaluateStage, lost.ctx)
    expect(failed).toBe(true)
    expect(String(exit)).toContain(path.join(process.cwd(), "data/tasks.jsonl"))
  })
})
