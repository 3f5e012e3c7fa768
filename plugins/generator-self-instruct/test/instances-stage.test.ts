import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { GenerationRequest, JsonRecord } from "@refine-af/core"
import { InstancesOptions, instancesStage } from "../src/index.ts"
import { memoryContext, memoryInput, memoryWriter, type MemoryWriter } from "./support/memoryContext.ts"
import { runStage, runStageOk } from "./support/runStage.ts"
import { scriptedModel } from "./support/scriptedModel.ts"

const decode = Schema.decodeUnknownSync(InstancesOptions)

const tasks: Array<JsonRecord> = [
  { id: "generated_0", instruction: "Add the two numbers.", is_classification: false, prompt_seed_ids: ["s1", "s2"] },
  { id: "generated_1", instruction: "Is the review positive or negative?", is_classification: true, prompt_seed_ids: ["s3"] },
  { id: "generated_2", instruction: "Name a famous painter.", is_classification: null },
  { id: "generated_3", instruction: "Pick the larger number.", is_classification: false }
]

const taskLine = (request: GenerationRequest) => {
  const prompt = request.prompt as string
  const start = prompt.lastIndexOf("Task: ") + 6
  return prompt.slice(start, prompt.indexOf("\n", start))
}

/** Replies per task, deterministic in the request seed so a replay reproduces them. */
const replies: Record<string, (seed: number) => string> = {
  "Add the two numbers.": (seed) => `Input: 2 and 3\nOutput: 5\nExample 2\nInput: 10 and ${seed % 7}\nOutput: ${10 + (seed % 7)}\nExample 3\nInput: 1 and 1\nOutput: 2`,
  "Is the review positive or negative?": () => " Positive\nInput: Lovely staff.\nClass label: Negative\nInput: Cold food.",
  "Name a famous painter.": () => "Input:\nOutput: Frida Kahlo\nExample 2\nInput:\nOutput: Frida Kahlo",
  "Pick the larger number.": () => "Input: 4, 9\nOutput: 9\nExample 2\nInput: 4, 9\nOutput: 4"
}
const model = () => scriptedModel((request) => ({ text: replies[taskLine(request)]!(request.params.seed ?? 0) }))

const generate = async (options: Record<string, unknown>, output?: MemoryWriter, lm = model()) => {
  const { ctx, events } = memoryContext({ options: decode(options), uses: { model: lm }, seed: 5, ...(output ? { output } : {}), inputs: { instructions: memoryInput("classified", tasks) } })
  const exit = await runStage(instancesStage, ctx)
  return { exit, records: (ctx.output as MemoryWriter).committed, events, lm, dir: ctx.dir }
}

describe("self-instruct/instances", () => {
  it("writes Alpaca records: input-first for tasks, output-first for classification, filtered, with lineage", async () => {
    const { exit, records, events, lm } = await generate({ batchSize: 3, maxInstances: 2 })
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(records.map((r) => [r["instruction"], r["input"], r["output"]])).toEqual([
      ["Add the two numbers.", "2 and 3", "5"],
      ["Add the two numbers.", expect.stringMatching(/^10 and \d$/), expect.stringMatching(/^1\d$/)],
      ["Is the review positive or negative?", "Lovely staff.", "Positive"],
      ["Is the review positive or negative?", "Cold food.", "Negative"],
      ["Name a famous painter.", "", "Frida Kahlo"]
      // "Pick the larger number." has one input with two outputs: the whole task is dropped.
    ])
    const lineage = records[0]!["lineage"] as JsonRecord
    expect(lineage).toMatchObject({
      task_index: 0,
      instance_index: 0,
      instruction_id: "generated_0",
      seed_ids: ["s1", "s2"],
      template: "input-first/v1",
      model: "scripted-test-model",
      filters: { parsed: 3, kept: 2, rejected: { over_limit: 1 } }
    })
    expect((records[2]!["lineage"] as JsonRecord)["template"]).toBe("output-first/v1")
    const prompts = lm.requests.map((r) => r.prompt as string)
    expect(prompts[0]!.endsWith("Task: Add the two numbers.\nExample 1\n")).toBe(true)
    expect(prompts[1]!.endsWith("Task: Is the review positive or negative?\nClass label:")).toBe(true)
    expect(lm.requests[0]!.params.stop).toEqual(["Task:", "Example 3"])
    expect(lm.requests[1]!.params.stop).toEqual(["Task:"])
    expect(lm.requests[0]!.params).toMatchObject({ temperature: 0, presencePenalty: 1.5, maxNewTokens: 350 })
    const counts = events.filter((e) => e.type === "filter_counts").at(-1)!.data
    expect(counts).toMatchObject({ tasks: 4, kept: 5, duplicate: 1, conflicting_outputs: 2, over_limit: 1, empty_tasks: 1 })
  })

  it("drops the torn last pair of a length-cut response", async () => {
    const cut = scriptedModel(() => ({ text: "Input: a\nOutput: b\nExample 2\nInput: c\nOutput: d-trunc", finishReason: "length" }))
    const { records } = await generate({}, undefined, cut)
    expect(records.filter((r) => r["instruction"] === "Add the two numbers.").map((r) => r["output"])).toEqual(["b"])
  })

  it.each([1, 2, 4])("resumes after a crash at %i durable rows with output identical to an uninterrupted run", async (crashAfter) => {
    const full = await generate({ batchSize: 2 })
    const crashed = await generate({ batchSize: 2 }, memoryWriter([], { crashAfter, durableOnAppend: true }))
    expect(Exit.isFailure(crashed.exit)).toBe(true)
    const resumed = await generate({ batchSize: 2 }, memoryWriter(crashed.records))
    expect(Exit.isSuccess(resumed.exit)).toBe(true)
    expect(resumed.records).toEqual(full.records)
  })

  it("reports the whole run's counts after a resume (a model failure on the third batch), not only the last attempt's", async () => {
    const metricsOf = (exit: Awaited<ReturnType<typeof generate>>["exit"]) => (Exit.isSuccess(exit) ? (exit.value as { metrics: Record<string, number> }).metrics : undefined)
    const full = await generate({ batchSize: 1 })
    let calls = 0
    const failing = model()
    const failsOnThird = { ...failing, generate: (requests: Parameters<typeof failing.generate>[0]) => (++calls === 3 ? Effect.die("killed") : failing.generate(requests)) }
    const writer = memoryWriter()
    const crashed = await generate({ batchSize: 1 }, writer, failsOnThird as typeof failing)
    expect(Exit.isFailure(crashed.exit)).toBe(true)
    const resumed = await generate({ batchSize: 1 }, memoryWriter(crashed.records, { resumedState: writer.committedState()! }))
    expect(resumed.records).toEqual(full.records)
    expect(metricsOf(resumed.exit)).toEqual(metricsOf(full.exit))
    expect(metricsOf(full.exit)!["tasks"]).toBe(4)
    // The same totals beside the records, for export-hf's dataset card (filter-counts.json).
    expect(JSON.parse(readFileSync(join(resumed.dir, "filter-counts.json"), "utf8"))).toEqual(metricsOf(full.exit))
    // The run report's samples are spread over the whole dataset, the crashed attempt's rows included.
    const samplesOf = (exit: Awaited<ReturnType<typeof generate>>["exit"]) =>
      Exit.isSuccess(exit) ? (exit.value as { data: { report: { samples: Array<Record<string, unknown>> } } }).data.report.samples : undefined
    expect(samplesOf(resumed.exit)).toEqual(samplesOf(full.exit))
    expect(samplesOf(full.exit)!.length).toBe(Math.min(4, full.records.length))
    for (const sample of samplesOf(full.exit)!) {
      expect(sample["group"]).toBe("kept instances")
      expect(full.records.some((row) => row["instruction"] === sample["instruction"] && row["input"] === sample["input"] && row["output"] === sample["output"])).toBe(true)
    }
  })

  it("uses a template file from the recipe and names it in lineage", async () => {
    const dir = mkdtempSync(join(tmpdir(), "si-template-"))
    const path = join(dir, "mine.txt")
    writeFileSync(path, "Make examples.\n\nTask: {instruction}\nExample 1\n")
    const { records, lm } = await generate({ templates: { inputFirst: path } })
    expect(lm.requests[0]!.prompt).toBe("Make examples.\n\nTask: Add the two numbers.\nExample 1\n")
    expect((records[0]!["lineage"] as JsonRecord)["template"]).toMatch(/^file:mine\.txt@[0-9a-f]{12}$/)
  })

  it("refuses a template without the placeholder, naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "si-template-"))
    const path = join(dir, "broken.txt")
    writeFileSync(path, "No placeholder here")
    const { exit } = await generate({ templates: { outputFirst: path } })
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain("broken.txt")
    expect(String(exit)).toContain("{instruction}")
  })
})
