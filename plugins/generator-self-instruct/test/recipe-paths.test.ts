/** Relative seed and template files in the options are next to the recipe (`ctx.recipeDir`), not in the cwd. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { BootstrapOptions, bootstrapStage, InstancesOptions, instancesStage } from "../src/index.ts"
import { memoryContext, memoryInput, type MemoryWriter } from "./support/memoryContext.ts"
import { runStage } from "./support/runStage.ts"
import { scriptedModel, syntheticInstructionModel } from "./support/scriptedModel.ts"

const recipeFolder = () => {
  const dir = mkdtempSync(join(tmpdir(), "si-recipe-"))
  mkdirSync(join(dir, "data"))
  return dir
}

describe("relative paths in self-instruct options", () => {
  it("bootstrap reads `seeds: data/mine.jsonl` from the recipe's folder", async () => {
    const recipeDir = recipeFolder()
    const tasks = ["Name a colour of the rainbow.", "Count the vowels in the word.", "Suggest a title for the poem."]
    writeFileSync(join(recipeDir, "data/mine.jsonl"), tasks.map((instruction, i) => JSON.stringify({ id: `t${i}`, instruction, instances: [], is_classification: false })).join("\n"))
    const model = syntheticInstructionModel()
    const options = Schema.decodeUnknownSync(BootstrapOptions)({ seeds: "data/mine.jsonl", target: 4, batchSize: 1 })
    const { ctx } = memoryContext({ options, uses: { model }, seed: 7 })
    const exit = await runStage(bootstrapStage, { ...ctx, recipeDir })
    expect(Exit.isSuccess(exit)).toBe(true)
    const shown = (model.requests[0]!.prompt as string).split("\n").slice(1, -1).map((line) => line.replace(/^\d+\. /, ""))
    expect(shown.sort()).toEqual([...tasks].sort())

    // Without the recipe's folder the same relative path is looked up in the cwd, where it does not exist.
    const lost = await runStage(bootstrapStage, memoryContext({ options, uses: { model: syntheticInstructionModel() }, seed: 7 }).ctx)
    expect(Exit.isFailure(lost)).toBe(true)
    expect(String(lost)).toContain(join(process.cwd(), "data/mine.jsonl"))
  })

  it("instances reads `templates.inputFirst: data/mine.txt` from the recipe's folder", async () => {
    const recipeDir = recipeFolder()
    writeFileSync(join(recipeDir, "data/mine.txt"), "Make examples.\n\nTask: {instruction}\nExample 1\n")
    const lm = scriptedModel(() => ({ text: "Input: 2 and 3\nOutput: 5" }))
    const options = Schema.decodeUnknownSync(InstancesOptions)({ templates: { inputFirst: "data/mine.txt" } })
    const task = { id: "generated_0", instruction: "Add the two numbers.", is_classification: false }
    const { ctx } = memoryContext({ options, uses: { model: lm }, seed: 5, inputs: { instructions: memoryInput("classified", [task]) } })
    const exit = await runStage(instancesStage, { ...ctx, recipeDir })
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(lm.requests[0]!.prompt).toBe("Make examples.\n\nTask: Add the two numbers.\nExample 1\n")
    expect((ctx.output as MemoryWriter).committed).toHaveLength(1)
  })
})
