import { Effect, Schema, Stream } from "effect"
import { existsSync } from "node:fs"
import { defineStage, resolveRecipePath, type JsonRecord } from "@refine-af/core"
import { describe, expect, it } from "vitest"
import { checkResumeContract, memoryInput, memoryStageContext, memoryWriter, runStage, runStageExit, scriptedLanguageModel } from "../src/index.ts"

/** Emits `count` records i → { i, square }, continuing after the durable ones as the contract asks. */
const countingStage = (respectResume: boolean) =>
  defineStage({
    role: "generator",
    description: "test: numbered records",
    options: Schema.Struct({ count: Schema.Number }),
    run: (ctx) =>
      Effect.gen(function* () {
        const start = respectResume ? ctx.output.resumedCount : 0
        for (let i = start; i < ctx.options.count; i++) {
          yield* ctx.output.append([{ i, square: i * i }])
          if (i % 3 === 2) yield* ctx.output.checkpoint()
        }
        yield* ctx.output.checkpoint()
      })
  })

describe("checkResumeContract", () => {
  it("passes a stage that continues after its durable records", async () => {
    const report = await checkResumeContract({ stage: countingStage(true), fields: () => ({ options: { count: 10 }, uses: {} }) })
    expect(report.uninterrupted.map((record) => record.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(report.checkedCrashPoints).toEqual([1, 2, 5, 9, 10])
    expect(report.mismatches).toEqual([])
  })

  it("catches a stage that re-emits records it already wrote", async () => {
    const report = await checkResumeContract({ stage: countingStage(false), fields: () => ({ options: { count: 6 }, uses: {} }) })
    expect(report.mismatches.length).toBe(report.checkedCrashPoints.length)
    expect(report.mismatches[0]!.reason).toContain("record 1")
  })

  it("catches a stage whose output depends on the attempt", async () => {
    let attempt = 0
    const flaky = defineStage({
      role: "generator",
      description: "test: output differs per attempt",
      options: Schema.Struct({}),
      run: (ctx) =>
        Effect.gen(function* () {
          attempt++
          for (let i = ctx.output.resumedCount; i < 4; i++) yield* ctx.output.append([{ i, attempt }])
        })
    })
    const report = await checkResumeContract({ stage: flaky, fields: () => ({ options: {}, uses: {} }), crashPoints: [2] })
    expect(report.mismatches).toHaveLength(1)
    expect(report.mismatches[0]!.crashAfter).toBe(2)
  })
})

describe("memoryWriter", () => {
  it("loses what was not checkpointed when it crashes, keeps what was", async () => {
    const writer = memoryWriter([], { crashAfter: 3 })
    const { ctx } = memoryStageContext({ options: { count: 10 }, uses: {}, output: writer })
    const exit = await runStageExit(countingStage(true), ctx)
    expect(exit._tag).toBe("Failure")
    expect(writer.committed.map((record) => record.i)).toEqual([0, 1, 2])
  })

  it("hands resumed records back and counts them", async () => {
    const resumed: JsonRecord[] = [{ i: 0, square: 0 }]
    const writer = memoryWriter(resumed)
    expect(writer.resumedCount).toBe(1)
    expect(await Effect.runPromise(writer.resumed())).toEqual(resumed)
    const { ctx, events } = memoryStageContext({ options: { count: 3 }, uses: {}, output: writer })
    await Effect.runPromise(ctx.events.metric("loss", 0.5, 2))
    await runStage(countingStage(true), ctx)
    expect(writer.committed.map((record) => record.i)).toEqual([0, 1, 2])
    expect(events).toEqual([{ type: "metric", data: { name: "loss", value: 0.5, step: 2 } }])
  })

  it("passes recipeDir through so plugins resolve relative paths like in a run", () => {
    const { ctx } = memoryStageContext({ options: {}, uses: {}, recipeDir: "/recipes/here" })
    expect(resolveRecipePath(ctx, "data/seeds.jsonl")).toBe("/recipes/here/data/seeds.jsonl")
  })

  it("gives a stateDir apart from dir, reused when passed again (a simulated resume)", () => {
    const first = memoryStageContext({ options: {}, uses: {} }).ctx
    expect(existsSync(first.stateDir)).toBe(true)
    expect(first.stateDir).not.toBe(first.dir)
    expect(memoryStageContext({ options: {}, uses: {}, stateDir: first.stateDir }).ctx.stateDir).toBe(first.stateDir)
  })

  it("streams inputs in order", async () => {
    const input = memoryInput("up", [{ a: 1 }, { a: 2 }])
    const all = await Effect.runPromise(Stream.runCollect(input.records()))
    expect(all).toEqual([{ a: 1 }, { a: 2 }])
    expect(input.count).toBe(2)
  })
})

describe("scriptedLanguageModel", () => {
  const model = scriptedLanguageModel((request, index) => ({
    text: `reply ${index} to ${String(request.prompt).length} chars`,
    finishReason: index === 1 ? "length" : "stop"
  }))

  it("answers in request order and records requests", async () => {
    const out = await Effect.runPromise(
      model.generate([
        { prompt: "ab", params: { maxNewTokens: 4 } },
        { prompt: "abcd", params: { maxNewTokens: 4 } }
      ])
    )
    expect(out.map((generation) => generation.text)).toEqual(["reply 0 to 2 chars", "reply 1 to 4 chars"])
    expect(out.map((generation) => generation.finishReason)).toEqual(["stop", "length"])
    expect(out[0]!.logprobs).toHaveLength(out[0]!.tokenIds!.length)
    expect(model.requests).toHaveLength(2)
  })

  it("streams pieces that concatenate to the reply, and scores consistently", async () => {
    const pieces = await Effect.runPromise(Stream.runCollect(model.stream({ prompt: "x", params: { maxNewTokens: 8 } })))
    expect(pieces.map((piece) => piece.text).join("")).toBe("reply 2 to 1 chars")
    const [scored] = await Effect.runPromise(model.score([{ prompt: "p", continuation: "a b a" }]))
    expect(scored!.logprobs).toHaveLength(3)
    expect(scored!.logprobs![0]).not.toBe(scored!.logprobs![1])
    expect(scored!.total).toBeCloseTo(scored!.logprobs!.reduce((sum, value) => sum + value, 0), 12)
  })
})
