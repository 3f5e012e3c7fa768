import { Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { JsonRecord } from "@refine-af/core"
import { ClassifyOptions, classificationHeuristic, classifyStage, encodeClassifyPrompt, parseYesNo } from "../src/index.ts"
import { memoryContext, memoryInput, memoryWriter } from "./support/memoryContext.ts"
import { runStage, runStageOk } from "./support/runStage.ts"
import { scriptedModel } from "./support/scriptedModel.ts"

const decode = Schema.decodeUnknownSync(ClassifyOptions)

const instructions: Array<JsonRecord> = [
  { id: "g0", instruction: "Label the tweet as happy or sad." },
  { id: "g1", instruction: "Write a limerick about a lazy cat." },
  { id: "g2", instruction: "Decide whether the sentence is grammatical." },
  { id: "g3", instruction: "Describe your ideal weekend." },
  { id: "seed", instruction: "Spot the odd word out.", is_classification: false }
]

/** A model that answers from a lookup on the task line of the prompt. */
const answering = (answers: Record<string, string>) =>
  scriptedModel((request) => {
    const prompt = request.prompt as string
    const task = prompt.slice(prompt.lastIndexOf("Task: ") + 6, prompt.lastIndexOf("\nClassification:"))
    return { text: answers[task] ?? " maybe" }
  })

const modelAnswers = {
  "Label the tweet as happy or sad.": " Yes",
  "Write a limerick about a lazy cat.": " No",
  "Decide whether the sentence is grammatical.": " yes.",
  "Describe your ideal weekend.": " I think so"
}

describe("yes/no parsing and the heuristic", () => {
  it("reads the first word only", () => {
    expect(parseYesNo(" Yes")).toBe(true)
    expect(parseYesNo("NO, never")).toBe(false)
    expect(parseYesNo("Yesterday")).toBeUndefined()
    expect(parseYesNo("")).toBeUndefined()
    expect(parseYesNo("Not sure")).toBeUndefined()
  })

  it("spots classification wording", () => {
    expect(classificationHeuristic("Classify the animal as a mammal or a bird.")).toBe(true)
    expect(classificationHeuristic("Tell whether the review is positive.")).toBe(true)
    expect(classificationHeuristic("Is it true or false that cats can swim?")).toBe(true)
    expect(classificationHeuristic("Write a story about a dragon.")).toBe(false)
    expect(classificationHeuristic("Explain photosynthesis simply.")).toBe(false)
  })

  it("builds a few-shot prompt ending at the question", () => {
    const prompt = encodeClassifyPrompt("Name  a\ncolour.")
    expect(prompt.endsWith("\n\nTask: Name a colour.\nClassification:")).toBe(true)
    expect(prompt.match(/Classification: (Yes|No)/g)!.length).toBeGreaterThanOrEqual(8)
  })
})

describe("self-instruct/classify", () => {
  it("asks the model for undecided instructions and keeps upstream decisions", async () => {
    const model = answering(modelAnswers)
    const { ctx, output, events } = memoryContext({ options: decode({ batchSize: 2 }), uses: { model }, inputs: { instructions: memoryInput("bootstrap", instructions) } })
    await runStageOk(classifyStage, ctx)
    expect(output.committed.map((r) => r["is_classification"])).toEqual([true, false, true, null, false])
    expect(output.committed.map((r) => (r["classification"] as { source: string }).source)).toEqual(["model", "model", "model", "model", "upstream"])
    expect(output.committed[0]).toMatchObject({ id: "g0", instruction: "Label the tweet as happy or sad." })
    expect(model.requests).toHaveLength(4)
    expect(model.requests[0]!.params).toMatchObject({ temperature: 0, maxNewTokens: 3, stop: ["\n"] })
    expect(events.find((e) => e.type === "classification_counts")!.data).toMatchObject({ yes: 2, no: 2, unknown: 1, upstream: 1 })
    expect(events.some((e) => e.type === "warn")).toBe(true)
  })

  it("skip: true uses the heuristic without calling the model, or leaves null in unknown mode", async () => {
    const model = answering({})
    const heuristic = memoryContext({ options: decode({ skip: true }), uses: { model }, inputs: { instructions: memoryInput("b", instructions) } })
    await runStageOk(classifyStage, heuristic.ctx)
    expect(heuristic.output.committed.map((r) => r["is_classification"])).toEqual([true, false, true, false, false])
    const unknown = memoryContext({ options: decode({ skip: true, skipMode: "unknown", keepUpstream: false }), uses: { model }, inputs: { instructions: memoryInput("b", instructions) } })
    await runStageOk(classifyStage, unknown.ctx)
    expect(unknown.output.committed.map((r) => r["is_classification"])).toEqual([null, null, null, null, null])
    expect(model.requests).toHaveLength(0)
  })

  it("needs no model with skip: true (the slot is optional), and names the fix without one otherwise", async () => {
    const noModel = memoryContext({ options: decode({ skip: true }), uses: { model: undefined }, inputs: { instructions: memoryInput("b", instructions) } })
    await runStageOk(classifyStage, noModel.ctx)
    expect(noModel.output.committed.map((r) => r["is_classification"])).toEqual([true, false, true, false, false])
    const missing = memoryContext({ options: decode({}), uses: { model: undefined }, inputs: { instructions: memoryInput("b", instructions) } })
    const exit = await runStage(classifyStage, missing.ctx)
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause.reasons.find((reason) => reason._tag === "Fail") : undefined
    expect(error?._tag === "Fail" ? (error.error as { fix?: string }).fix : undefined).toContain("set `skip: true`")
    expect(String(exit)).toContain("the `model` slot is not connected")
    expect(missing.output.committed).toHaveLength(0)
  })

  it("resumes at the first record not yet durable", async () => {
    const full = memoryContext({ options: decode({ batchSize: 1 }), uses: { model: answering(modelAnswers) }, inputs: { instructions: memoryInput("b", instructions) } })
    await runStageOk(classifyStage, full.ctx)
    const crashedWriter = memoryWriter([], { crashAfter: 2 })
    const crashed = memoryContext({ options: decode({ batchSize: 1 }), uses: { model: answering(modelAnswers) }, output: crashedWriter, inputs: { instructions: memoryInput("b", instructions) } })
    expect(Exit.isFailure(await runStage(classifyStage, crashed.ctx))).toBe(true)
    const model = answering(modelAnswers)
    const resumed = memoryContext({ options: decode({ batchSize: 1 }), uses: { model }, output: memoryWriter(crashedWriter.committed), inputs: { instructions: memoryInput("b", instructions) } })
    await runStageOk(classifyStage, resumed.ctx)
    expect(resumed.output.committed).toEqual(full.output.committed)
    expect(model.requests).toHaveLength(2) // g2 and g3 only; the seed keeps its upstream label
  })

  it("reports the whole run's counts after a resume, not only the last attempt's", async () => {
    const metricsOf = async (output?: ReturnType<typeof memoryWriter>) => {
      const { ctx } = memoryContext({ options: decode({ batchSize: 1 }), uses: { model: answering(modelAnswers) }, ...(output ? { output } : {}), inputs: { instructions: memoryInput("b", instructions) } })
      const exit = await runStage(classifyStage, ctx)
      return Exit.isSuccess(exit) ? (exit.value as { metrics: Record<string, number> }).metrics : undefined
    }
    const full = await metricsOf()
    const crashedWriter = memoryWriter([], { crashAfter: 2 })
    expect(await metricsOf(crashedWriter)).toBeUndefined()
    expect(await metricsOf(memoryWriter(crashedWriter.committed))).toEqual(full)
  })

  it("fails with a StageError naming the record when an instruction is missing", async () => {
    const { ctx } = memoryContext({ options: decode({}), uses: { model: answering({}) }, inputs: { instructions: memoryInput("b", [{ id: "x" }]) } })
    const exit = await runStage(classifyStage, ctx)
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain("upstream record 0")
  })
})
