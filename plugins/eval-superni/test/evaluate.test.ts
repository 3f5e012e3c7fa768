import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { TablesFile } from "@refine-af/core"
import { bundledTaskSet, EvaluateOptions, evaluateStage, readTaskJsonl } from "../src/index.ts"
import { makeMemoryStage } from "./support/memoryContext.ts"
import { runStage, runStageExit } from "./support/runStage.ts"
import { lastInput, scriptedModel } from "./support/scriptedModel.ts"

const referencesByInput = new Map<string, ReadonlyArray<string>>()
const bundled = await Effect.runPromise(readTaskJsonl({ file: bundledTaskSet, maxInstances: 100 }))
for (const task of bundled) for (const instance of task.instances) referencesByInput.set(instance.input.trim(), instance.output)

/** Answers with the first reference: a perfect model. */
const oracle = () => scriptedModel("oracle", (prompt) => referencesByInput.get(lastInput(prompt))?.[0] ?? "")
/** Always says "Yes": right exactly on the instances whose reference is "Yes". */
const yesSayer = () => scriptedModel("yes-sayer", () => " Yes\n\nInput: (the model rambles on)")

const decodeOptions = (raw: Record<string, unknown>) => Schema.decodeUnknownSync(EvaluateOptions)(raw)

describe("superni/evaluate", () => {
  it("scores a perfect model 100 on every task and writes records and reports", async () => {
    const model = oracle()
    const stage = makeMemoryStage({ name: "eval", options: decodeOptions({ batchSize: 7 }), uses: { model } })
    const summary = await runStage(evaluateStage, stage.ctx)
    expect(stage.records).toHaveLength(160)
    expect(summary).toEqual({ metrics: { rougeL: 100, exactMatch: 100, instances: 160, tasks: 8 } })
    expect(stage.records[0]).toMatchObject({
      task: "mini001_kitchen_entailment",
      category: "Textual Entailment",
      id: "mini001_kitchen_entailment-1",
      prediction: "No",
      references: ["No"],
      rougeL: 1,
      exactMatch: 1
    })
    for (const file of ["report.md", "report.html", "metrics.json"]) expect(existsSync(path.join(stage.ctx.dir, file))).toBe(true)
    const metrics = JSON.parse(readFileSync(path.join(stage.ctx.dir, "metrics.json"), "utf8"))
    expect(metrics.kind).toBe("superni/evaluate")
    expect(metrics.summary.tasks).toHaveLength(8)
    // The run report's tables: overall, per category, per task, from the same summary.
    const { tables } = Schema.decodeUnknownSync(TablesFile)(JSON.parse(readFileSync(path.join(stage.ctx.dir, "tables.json"), "utf8")))
    expect(tables.map((table) => [table.title, table.rows.length])).toEqual([["SuperNI scores", 1], ["Per category", metrics.summary.categories.length], ["Per task", 8]])
    expect(tables[0]!.rows[0]!.slice(0, 2)).toEqual([8, 160])
    expect(stage.progress.at(-1)).toEqual({ done: 160, total: 160 })
    // Greedy decoding with the configured limits, in batches of 7.
    expect(model.requests).toHaveLength(160)
    expect(model.requests[0]!.params).toEqual({ maxNewTokens: 128, temperature: 0, stop: ["\n\n"] })
  })

  it("scores a constant answer exactly on the instances it gets right, cutting at the stop string", async () => {
    const stage = makeMemoryStage({ name: "eval", options: decodeOptions({}), uses: { model: yesSayer() } })
    await runStage(evaluateStage, stage.ctx)
    expect(stage.records.every((record) => record["prediction"] === "Yes")).toBe(true)
    const yesInstances = bundled.flatMap((task) => task.instances).filter((instance) => instance.output.includes("Yes")).length
    const exact = stage.records.reduce((sum, record) => sum + (record["exactMatch"] as number), 0)
    expect(exact).toBe(yesInstances)
    const report = readFileSync(path.join(stage.ctx.dir, "report.md"), "utf8")
    expect(report).toContain("| mini001_kitchen_entailment | Textual Entailment | EM |")
  })

  it("counts generations cut by the token limit and warns about them", async () => {
    const model = scriptedModel("long-winded", () => "and so on", (prompt) => (lastInput(prompt).length > 60 ? "length" : "stop"))
    const stage = makeMemoryStage({ name: "eval", options: decodeOptions({ maxInstances: 3 }), uses: { model } })
    await runStage(evaluateStage, stage.ctx)
    const expected = bundled.flatMap((task) => task.instances.slice(0, 3)).filter((instance) => instance.input.trim().length > 60).length
    expect(expected).toBeGreaterThan(0)
    expect(stage.records.filter((record) => record["finishReason"] === "length")).toHaveLength(expected)
    expect(stage.warnings).toEqual([`${expected} of 24 generations hit maxNewTokens=128`])
    const metrics = JSON.parse(readFileSync(path.join(stage.ctx.dir, "metrics.json"), "utf8"))
    expect(metrics.truncated).toBe(expected)
    expect(readFileSync(path.join(stage.ctx.dir, "report.md"), "utf8")).toContain(`${expected} generations hit the token limit`)
  })

  it("resumes after a crash and ends with the same records as an uninterrupted run", async () => {
    const options = decodeOptions({ batchSize: 16, maxInstances: 10 })
    const uninterrupted = makeMemoryStage({ name: "eval", options, uses: { model: oracle() } })
    await runStage(evaluateStage, uninterrupted.ctx)

    const crashed = makeMemoryStage({ name: "eval", options, uses: { model: oracle() }, crashAfter: 32 })
    const first = await runStageExit(evaluateStage, crashed.ctx)
    expect(first.failed).toBe(true)
    expect(crashed.records).toHaveLength(32)

    const model = oracle()
    const resumed = makeMemoryStage({ name: "eval", options, uses: { model }, resumed: crashed.records })
    const summary = await runStage(evaluateStage, resumed.ctx)
    expect(model.requests).toHaveLength(80 - 32)
    expect(resumed.records).toEqual(uninterrupted.records)
    expect(summary).toEqual({ metrics: { rougeL: 100, exactMatch: 100, instances: 80, tasks: 8 } })
  })

  it("refuses to resume from records of a different evaluation set", async () => {
    const options = decodeOptions({ maxInstances: 2 })
    const foreign = [{ task: "other", category: "x", id: "1", prediction: "", references: ["a"], rougeL: 0, exactMatch: 0 }]
    const stage = makeMemoryStage({ name: "eval", options, uses: { model: oracle() }, resumed: foreign })
    const { exit } = await runStageExit(evaluateStage, stage.ctx)
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain("does not match the evaluation order")
  })

  it("turns bad data into a StageError naming the file", async () => {
    const stage = makeMemoryStage({ name: "eval", options: decodeOptions({ tasks: "/nonexistent/tasks.jsonl" }), uses: { model: oracle() } })
    const { exit } = await runStageExit(evaluateStage, stage.ctx)
    expect(Exit.isFailure(exit)).toBe(true)
    const text = String(exit)
    expect(text).toContain("StageError")
    expect(text).toContain("/nonexistent/tasks.jsonl")
  })

  it("prompts with k positive examples and honours template overrides from the recipe", async () => {
    const model = oracle()
    const options = decodeOptions({ maxInstances: 1, positiveExamples: 2, exampleTemplate: "[{index}] {input} -> {output}\n", onlyTasks: ["mini003_word_analogy_tools"] })
    const stage = makeMemoryStage({ name: "eval", options, uses: { model } })
    await runStage(evaluateStage, stage.ctx)
    expect(model.requests).toHaveLength(1)
    const prompt = model.requests[0]!.prompt as string
    expect(prompt).toContain("[1] hammer : nail :: screwdriver : ? -> screw\n[2] pen : write :: knife : ? -> cut\nNow complete")
    expect(stage.records).toHaveLength(1)
  })

  it("reports an invalid template as a StageError before generating anything", async () => {
    const model = oracle()
    const stage = makeMemoryStage({ name: "eval", options: decodeOptions({ promptTemplate: "{definition} only" }), uses: { model } })
    const { exit } = await runStageExit(evaluateStage, stage.ctx)
    expect(String(exit)).toContain("TemplateInvalid")
    expect(model.requests).toHaveLength(0)
  })

  it("shortens prompts to the model's context and records how", async () => {
    const echo = scriptedModel("small-context", (prompt) => lastInput(prompt))
    const model = { ...echo, info: { id: "small-context", contextLength: 330 } } // countTokens = characters
    const options = decodeOptions({ maxInstances: 4, positiveExamples: 2, maxNewTokens: 30 })
    const stage = makeMemoryStage({ name: "eval", options, uses: { model } })
    await runStage(evaluateStage, stage.ctx)
    expect(echo.requests).toHaveLength(32)
    for (const request of echo.requests) expect((request.prompt as string).length).toBeLessThanOrEqual(300)
    const fits = stage.records.map((record) => record["fit"]).filter((fit) => fit !== undefined)
    expect(fits.length).toBeGreaterThan(0)
    expect(stage.warnings.some((warning) => warning.startsWith("prompts shortened to fit 300 tokens"))).toBe(true)
    const metrics = JSON.parse(readFileSync(path.join(stage.ctx.dir, "metrics.json"), "utf8"))
    expect(metrics.promptFits["dropped-examples"] + metrics.promptFits["truncated-input"] + metrics.promptFits["over-budget"]).toBe(fits.length)
  })

  it("fails clearly when the output budget fills the whole context", async () => {
    const echo = scriptedModel("tiny", () => "")
    const model = { ...echo, info: { id: "tiny", contextLength: 64 } }
    const stage = makeMemoryStage({ name: "eval", options: decodeOptions({ maxNewTokens: 64 }), uses: { model } })
    const { exit } = await runStageExit(evaluateStage, stage.ctx)
    expect(String(exit)).toContain("ContextTooSmall")
    expect(echo.requests).toHaveLength(0)
  })

  it("decodes recipe options with defaults and rejects bad values", () => {
    const options = decodeOptions({})
    expect(options).toMatchObject({ maxInstances: 100, positiveExamples: 0, maxNewTokens: 128, batchSize: 16, stop: ["\n\n"] })
    expect(options.tasks).toBe(bundledTaskSet)
    expect(() => decodeOptions({ maxInstances: 0 })).toThrow()
    expect(() => decodeOptions({ positiveExamples: 1.5 })).toThrow()
  })
})
