import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { LanguageModelError, type JsonRecord } from "@refine-af/core"
import { rougeL } from "@refine-af/text"
import { BootstrapOptions, bootstrapStage, builtinSeedPath, readSeedFile } from "../src/index.ts"
import { memoryContext, memoryWriter, type MemoryWriter } from "./support/memoryContext.ts"
import { runStage, runStageOk } from "./support/runStage.ts"
import { scriptedModel, syntheticInstructionModel } from "./support/scriptedModel.ts"

const decodeOptions = Schema.decodeUnknownSync(BootstrapOptions)
const seedTasks = await Effect.runPromise(readSeedFile(builtinSeedPath))
const seedInstructions = new Set(seedTasks.map((task) => task.instruction))

const shownItems = (prompt: string): Array<string> =>
  prompt
    .split("\n")
    .slice(1, -1)
    .map((line) => line.replace(/^\d+\. /, ""))

const bootstrap = async (options: Record<string, unknown>, model = syntheticInstructionModel(), output?: MemoryWriter, seed = 7) => {
  const { ctx, events } = memoryContext({ options: decodeOptions(options), uses: { model }, seed, ...(output ? { output } : {}) })
  const exit = await runStage(bootstrapStage, ctx)
  return { exit, records: ctx.output === output ? output.committed : (ctx.output as MemoryWriter).committed, events, model }
}

describe("self-instruct/bootstrap", () => {
  it("uses the paper's sampling defaults", () => {
    const options = decodeOptions({})
    expect(options.sampling).toEqual({
      maxNewTokens: 1024,
      temperature: 0.7,
      topP: 0.5,
      presencePenalty: 2,
      frequencyPenalty: 0,
      stop: ["\n\n", "\n16", "16.", "16 ."]
    })
    expect(options.filters.rougeThreshold).toBe(0.7)
    expect(options.promptInstructions).toBe(8)
  })

  it("shows 8 seeds before anything is generated, then 6 seeds + 2 generated, numbered 1-8 with 9 open", async () => {
    const { exit, records, model } = await bootstrap({ target: 30, batchSize: 2 })
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(records).toHaveLength(30)
    const generatedSoFar = new Set<string>()
    const byStep = new Map<number, Array<JsonRecord>>()
    for (const record of records) byStep.set(Number(record["step"]), [...(byStep.get(Number(record["step"])) ?? []), record])
    model.requests.forEach((request, index) => {
      const prompt = request.prompt as string
      expect(prompt.startsWith("Come up with a series of tasks:\n1. ")).toBe(true)
      expect(prompt.endsWith("\n8. " + shownItems(prompt)[7] + "\n9.")).toBe(true)
      const items = shownItems(prompt)
      expect(items).toHaveLength(8)
      const fromGenerated = items.filter((item) => !seedInstructions.has(item))
      const step = Math.floor(index / 2)
      expect(fromGenerated.length).toBe(generatedSoFar.size === 0 ? 0 : Math.min(2, generatedSoFar.size))
      for (const item of fromGenerated) expect(generatedSoFar.has(item)).toBe(true)
      expect(new Set(items).size).toBe(8)
      // The pool grows only between steps.
      if (index % 2 === 1) for (const record of byStep.get(step) ?? []) generatedSoFar.add(String(record["instruction"]))
    })
    expect(model.requests[0]!.params).toMatchObject({ temperature: 0.7, topP: 0.5, presencePenalty: 2, maxNewTokens: 1024 })
  })

  it("keeps every accepted instruction below the ROUGE-L threshold to everything pooled before it, with its top-10 neighbours", async () => {
    const { records } = await bootstrap({ target: 40, batchSize: 3 })
    const pooled = [...seedInstructions]
    for (const record of records) {
      const instruction = String(record["instruction"])
      const scores = pooled.map((other) => rougeL(instruction, other).fmeasure)
      expect(Math.max(...scores)).toBeLessThanOrEqual(0.7)
      const neighbours = record["most_similar"] as Array<{ instruction: string; score: number }>
      expect(neighbours.map((n) => n.score)).toEqual([...scores].sort((a, b) => b - a).slice(0, 10))
      for (const neighbour of neighbours) expect(rougeL(instruction, neighbour.instruction).fmeasure).toBe(neighbour.score)
      expect(record["avg_similarity_score"]).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 12)
      pooled.push(instruction)
    }
  })

  it("rejects near-duplicates accepted earlier in the same batch and counts every filter", async () => {
    const model = scriptedModel(() => ({
      text: [
        " Explain why the sky looks blue at noon.",
        "10. Explain why the sky looks blue at noon today.",
        "11. Draw a cat sitting on a mat",
        "12. Write a program that adds two numbers",
        "13. Hi there",
        "14. ¿Qué hora es en Madrid ahora?",
        "15. - Bullet item with enough words"
      ].join("\n")
    }))
    const { records, events } = await bootstrap({ target: 1, batchSize: 1, maxIdleSteps: 1 }, model)
    expect(records.map((r) => r["instruction"])).toEqual(["Explain why the sky looks blue at noon."])
    const second = await bootstrap({ target: 5, batchSize: 1, maxIdleSteps: 1 }, model)
    const counts = second.events.filter((e) => e.type === "filter_counts")[0]!.data
    expect(counts).toMatchObject({
      candidates: 7,
      accepted: 1,
      too_similar: 1,
      blacklisted_keyword: 1,
      forbidden_prefix: 1,
      too_short: 1,
      leading_non_ascii: 1,
      leading_punctuation: 1
    })
    expect(events.some((e) => e.type === "progress")).toBe(true)
    // Step 2 sees the same text again: all too similar, then the idle limit stops the stage with a warning.
    expect(second.records).toHaveLength(1)
    expect(second.events.some((e) => e.type === "warn")).toBe(true)
  })

  it("drops responses cut by the length limit, empty responses and pure garbage without failing", async () => {
    const replies = [
      { text: " Summarise the article in two sentences.\n10. Translate the sentence into German", finishReason: "length" as const },
      { text: "" },
      { text: "\n\n\n" },
      { text: ` ${"z".repeat(10_000)}\n10. ${"word ".repeat(500)}` },
      { text: " Suggest a name for a friendly neighbourhood cafe." }
    ]
    const model = scriptedModel((_, index) => replies[index % replies.length]!)
    const { exit, records, events } = await bootstrap({ target: 1, batchSize: 5 }, model)
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(records.map((r) => r["instruction"])).toEqual(["Suggest a name for a friendly neighbourhood cafe."])
    const counts = events.filter((e) => e.type === "filter_counts").at(-1)!.data
    expect(counts).toMatchObject({ responses: 5, length_cut_responses: 1, candidates: 3, too_short: 1, too_long: 1, accepted: 1 })
  })

  it("gives the same output with the pool on worker threads, and the same instructions with decision-only screening", async () => {
    const onThread = await bootstrap({ target: 30, batchSize: 2 })
    const onWorkers = await bootstrap({ target: 30, batchSize: 2, workers: 2 })
    expect(Exit.isSuccess(onWorkers.exit)).toBe(true)
    // Worker shards sum the mean similarity in another order: equal up to rounding, everything else identical.
    const withoutMean = (records: ReadonlyArray<JsonRecord>) => records.map(({ avg_similarity_score: _, ...rest }) => rest)
    expect(withoutMean(onWorkers.records)).toEqual(withoutMean(onThread.records))
    onWorkers.records.forEach((record, index) =>
      expect(record["avg_similarity_score"] as number).toBeCloseTo(onThread.records[index]!["avg_similarity_score"] as number, 12)
    )
    const decisionOnly = await bootstrap({ target: 30, batchSize: 2, filters: { neighbours: 0, meanSimilarity: false } })
    expect(decisionOnly.records.map((r) => r["instruction"])).toEqual(onThread.records.map((r) => r["instruction"]))
    expect(decisionOnly.records.every((r) => (r["most_similar"] as Array<unknown>).length === 0 && r["avg_similarity_score"] === null)).toBe(true)
  })

  it("works with fewer seeds than a prompt shows: every seed once, the next number left open", async () => {
    const dir = mkdtempSync(join(tmpdir(), "si-seeds-"))
    const file = join(dir, "three.jsonl")
    const tasks = ["Name a colour of the rainbow.", "Count the vowels in the word.", "Suggest a title for the poem."]
    writeFileSync(file, tasks.map((instruction, i) => JSON.stringify({ id: `t${i}`, instruction, instances: [], is_classification: false })).join("\n"))
    const { exit, records, model } = await bootstrap({ seeds: file, target: 12, batchSize: 1 })
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(records).toHaveLength(12)
    expect(model.requests.length).toBeGreaterThan(1)
    const first = model.requests[0]!.prompt as string
    expect(shownItems(first).sort()).toEqual([...tasks].sort())
    expect(first.endsWith("\n4.")).toBe(true)
    // Later prompts add up to 2 generated instructions to the 3 seeds.
    expect(shownItems(model.requests.at(-1)!.prompt as string)).toHaveLength(5)
  })

  it("is deterministic: the same seed gives the same output, another seed a different one", async () => {
    const a = await bootstrap({ target: 25, batchSize: 2 }, syntheticInstructionModel(), undefined, 11)
    const b = await bootstrap({ target: 25, batchSize: 2 }, syntheticInstructionModel(), undefined, 11)
    const c = await bootstrap({ target: 25, batchSize: 2 }, syntheticInstructionModel(), undefined, 12)
    expect(b.records).toEqual(a.records)
    expect(c.records.map((r) => r["instruction"])).not.toEqual(a.records.map((r) => r["instruction"]))
  })

  it.each([
    ["at a step boundary (checkpointed steps)", false],
    ["in the middle of a step (records durable one by one)", true]
  ])("resumes after a crash %s with output identical to an uninterrupted run", async (_, durableOnAppend) => {
    const options = { target: 40, batchSize: 2 }
    const full = await bootstrap(options)
    expect(full.records).toHaveLength(40)
    for (const crashAfter of [1, 9, 23]) {
      const crashed = await bootstrap(options, syntheticInstructionModel(), memoryWriter([], { crashAfter, durableOnAppend }))
      expect(Exit.isFailure(crashed.exit)).toBe(true)
      const durable = crashed.records
      expect(durable.length).toBeGreaterThanOrEqual(1)
      const resumed = await bootstrap(options, syntheticInstructionModel(), memoryWriter(durable))
      expect(Exit.isSuccess(resumed.exit)).toBe(true)
      expect(resumed.records).toEqual(full.records)
    }
  })

  it("reports the whole run's counters after a resume, not only the last attempt's", async () => {
    const options = { target: 40, batchSize: 2 }
    const full = await bootstrap(options)
    const metricsOf = (exit: Awaited<ReturnType<typeof bootstrap>>["exit"]) => (Exit.isSuccess(exit) ? (exit.value as { metrics: Record<string, number> }).metrics : undefined)
    const fullMetrics = metricsOf(full.exit)!
    expect(fullMetrics["candidates"]).toBeGreaterThan(40)
    for (const durableOnAppend of [false, true]) {
      const writer = memoryWriter([], { crashAfter: 17, durableOnAppend })
      const crashed = await bootstrap(options, syntheticInstructionModel(), writer)
      expect(Exit.isFailure(crashed.exit)).toBe(true)
      const resumed = await bootstrap(options, syntheticInstructionModel(), memoryWriter(crashed.records, { resumedState: writer.committedState()! }))
      expect(resumed.records).toEqual(full.records)
      expect(metricsOf(resumed.exit)).toEqual(fullMetrics)
    }
  })

  it("keeps the durable records when a non-deterministic model cannot replay them", async () => {
    const options = { target: 12, batchSize: 1 }
    const crashed = await bootstrap(options, syntheticInstructionModel(), memoryWriter([], { crashAfter: 3, durableOnAppend: true }))
    const durable = crashed.records
    let call = 0
    const drifting = scriptedModel(() => ({ text: ` Describe a sunrise over the ocean number ${call++} please.` }))
    const resumed = await bootstrap(options, drifting, memoryWriter(durable))
    expect(Exit.isSuccess(resumed.exit)).toBe(true)
    expect(resumed.records.slice(0, durable.length)).toEqual(durable)
    expect(resumed.events.some((e) => e.type === "warn" && String(e.data["message"]).includes("did not reproduce"))).toBe(true)
  })

  it("turns a model failure into a StageError", async () => {
    const failing = {
      ...syntheticInstructionModel(),
      generate: () => Effect.fail(new LanguageModelError({ reason: "Unavailable", message: "server down", fix: "start it" }))
    }
    const { exit } = await bootstrap({ target: 3 }, failing as never)
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain("server down")
  })
})
