/**
 * The in-memory helpers behave like the core runner (packages/core/src/run/): records and
 * `state` commit together, a killed attempt's state reaches the resumed one, what a stage
 * appended is committed when it ends, options are decoded with the stage's Schema and typed
 * input ports check their records.
 */
import { Cause, Effect, Exit, Schema } from "effect"
import { defineStage, LanguageModel, StageError, type JsonRecord } from "@refine-af/core"
import { describe, expect, it } from "vitest"
import { checkResumeContract, memoryInput, memoryStageContext, memoryWriter, runStage, runStageExit, scriptedLanguageModel } from "../src/index.ts"

/** Record i carries the running total 1 + … + (i + 1), kept across resumes in `state`. */
const runningTotal = (checkpointEvery?: number) =>
  defineStage({
    role: "generator",
    description: "test: running total in state",
    deterministic: true,
    options: Schema.Struct({ count: Schema.Int }),
    run: (ctx) =>
      Effect.gen(function*() {
        let total = typeof ctx.output.resumedState === "number" ? ctx.output.resumedState : 0
        for (let i = ctx.output.resumedCount; i < ctx.options.count; i++) {
          total += i + 1
          yield* ctx.output.append([{ i, total }], { state: total })
          if (checkpointEvery !== undefined && (i + 1) % checkpointEvery === 0) yield* ctx.output.checkpoint()
        }
        return { metrics: { total } }
      })
  })

/** Counts odd indices in a local variable only: records resume fine, the metric does not. */
const forgetsState = defineStage({
  role: "generator",
  description: "test: counter without state",
  deterministic: true,
  options: Schema.Struct({}),
  run: (ctx) =>
    Effect.gen(function*() {
      let odd = 0
      for (let i = ctx.output.resumedCount; i < 8; i++) {
        if (i % 2 === 1) odd++
        yield* ctx.output.append([{ i }])
      }
      return { metrics: { odd } }
    })
})

/** The worked example of docs/plugin-authoring.md: it appends and never checkpoints. */
const titles = defineStage({
  role: "generator",
  description: "test: the documented titles stage",
  deterministic: true,
  options: Schema.Struct({ maxNewTokens: Schema.Int }),
  inputs: { records: { description: "records with a `text` field" } },
  uses: { model: LanguageModel },
  run: (ctx) =>
    Effect.gen(function*() {
      const all = yield* ctx.inputs["records"]!.readAll()
      for (let i = ctx.output.resumedCount; i < all.length; i++) {
        const [reply] = yield* ctx.uses.model.generate([{
          prompt: `Title for: ${String(all[i]!["text"])}\nTitle:`,
          params: { maxNewTokens: ctx.options.maxNewTokens, temperature: 0 }
        }]).pipe(Effect.mapError((e) => new StageError({ stage: ctx.name, message: e.message })))
        yield* ctx.output.append([{ ...all[i], title: reply!.text.trim() }])
      }
    })
})
const lines: ReadonlyArray<JsonRecord> = [0, 1, 2, 3, 4].map((i) => ({ text: `line ${i}` }))
const titleFields = () => ({
  options: { maxNewTokens: 8 },
  uses: { model: scriptedLanguageModel((request) => ({ text: ` ${String(request.prompt).length}` })) },
  inputs: { records: memoryInput("lines", lines) }
})

const failureText = (exit: Exit.Exit<unknown, unknown>): string => (Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "(succeeded)")

describe("checkResumeContract, as a real kill -9 and resume", () => {
  it("hands the killed attempt's committed state to the resumed attempt", async () => {
    const report = await checkResumeContract({ stage: runningTotal(), fields: () => ({ options: { count: 8 }, uses: {} }) })
    expect(report.uninterrupted.map((record) => record["total"])).toEqual([1, 3, 6, 10, 15, 21, 28, 36])
    expect(report.mismatches).toEqual([])
  })

  it("compares the summaries, so a stage that forgets `state` fails", async () => {
    const report = await checkResumeContract({ stage: forgetsState, fields: () => ({ options: {}, uses: {} }), crashPoints: [3] })
    expect(report.mismatches).toHaveLength(1)
    expect(report.mismatches[0]!.reason).toContain("metrics")
    expect(report.mismatches[0]!.reason).toContain(`{"odd":4}`)
  })

  it("checks a stage that never checkpoints (its records are committed when it ends)", async () => {
    const report = await checkResumeContract({ stage: titles, fields: titleFields, durableOnAppend: false })
    expect(report.uninterrupted).toHaveLength(5)
    expect(report.checkedCrashPoints.length).toBeGreaterThan(0)
    expect(report.mismatches).toEqual([])
  })

  it("refuses to pass a stage that wrote no records", async () => {
    const silent = defineStage({ role: "transform", description: "test: no output", options: Schema.Struct({}), run: () => Effect.void })
    await expect(checkResumeContract({ stage: silent, fields: () => ({ options: {}, uses: {} }) })).rejects.toThrow(/wrote no records/)
  })
})

describe("memoryWriter commits records and state atomically", () => {
  it("a kill after k durable records (one commit per append) leaves the state of exactly those records", async () => {
    const writer = memoryWriter([], { crashAfter: 3, durableOnAppend: true })
    const exit = await runStageExit(runningTotal(), memoryStageContext({ options: { count: 10 }, uses: {}, output: writer }).ctx)
    expect(Exit.isFailure(exit)).toBe(true)
    expect(writer.committed).toEqual([{ i: 0, total: 1 }, { i: 1, total: 3 }, { i: 2, total: 6 }])
    expect(writer.committedState()).toBe(6)
  })

  it("a checkpoint is one commit: all of its records and its state land, or none", async () => {
    const writer = memoryWriter([], { crashAfter: 3 })
    const exit = await runStageExit(runningTotal(2), memoryStageContext({ options: { count: 10 }, uses: {}, output: writer }).ctx)
    expect(Exit.isFailure(exit)).toBe(true)
    // Checkpoints commit records 0–1, then 2–3: the second reaches 3 durable records and the process dies after it.
    expect(writer.committed.map((record) => record["i"])).toEqual([0, 1, 2, 3])
    expect(writer.committedState()).toBe(10)
  })

  it("a killed writer commits nothing more", async () => {
    const writer = memoryWriter([], { crashAfter: 1, durableOnAppend: true })
    const append = (i: number) => Effect.runPromiseExit(writer.append([{ i }], { state: i }))
    expect(Exit.isFailure(await append(0))).toBe(true)
    expect(Exit.isFailure(await append(1))).toBe(true)
    expect(Exit.isFailure(await Effect.runPromiseExit(writer.checkpoint()))).toBe(true)
    expect(writer.committed).toEqual([{ i: 0 }])
    expect(writer.committedState()).toBe(0)
  })
})

describe("runStage commits what the stage appended, as the runner does when a stage ends", () => {
  it("the documented worked example yields its records without a checkpoint", async () => {
    const { ctx, output } = memoryStageContext(titleFields())
    await runStage(titles, ctx)
    expect(output.committed.map((record) => record["text"])).toEqual(lines.map((record) => record["text"]))
  })

  it("a stage that fails keeps what it appended (the runner closes the writer either way)", async () => {
    const failing = defineStage({
      role: "generator",
      description: "test: fails after two records",
      options: Schema.Struct({}),
      run: (ctx) =>
        Effect.gen(function*() {
          yield* ctx.output.append([{ i: 0 }, { i: 1 }], { state: 2 })
          return yield* new StageError({ stage: ctx.name, message: "model went away" })
        })
    })
    const { ctx, output } = memoryStageContext({ options: {}, uses: {} })
    const exit = await runStageExit(failing, ctx)
    expect(failureText(exit)).toContain("model went away")
    expect(output.committed).toEqual([{ i: 0 }, { i: 1 }])
    expect(output.committedState()).toBe(2)
  })
})

describe("runStage decodes options and checks typed ports as the runner does", () => {
  const labelled = defineStage({
    role: "generator",
    description: "test: an option with a default",
    options: Schema.Struct({
      count: Schema.Int,
      label: Schema.String.pipe(Schema.withDecodingDefaultKey(Effect.succeed("item")))
    }),
    run: (ctx) =>
      Effect.gen(function*() {
        for (let i = 0; i < ctx.options.count; i++) yield* ctx.output.append([{ i, label: ctx.options.label }])
        yield* ctx.output.checkpoint()
      })
  })

  it("fills a default the recipe leaves out (options as a recipe writes them type-check)", async () => {
    const { ctx, output } = memoryStageContext({ options: { count: 2 }, uses: {} })
    await runStage(labelled, ctx)
    expect(output.committed).toEqual([{ i: 0, label: "item" }, { i: 1, label: "item" }])
  })

  it("refuses an unknown or mistyped option, naming it", async () => {
    const unknown = await runStageExit(labelled, memoryStageContext({ options: { count: 2, colour: "red" }, uses: {} }).ctx)
    expect(failureText(unknown)).toContain("colour")
    const mistyped = await runStageExit(labelled, memoryStageContext({ options: { count: "2" as unknown as number }, uses: {} }).ctx)
    expect(failureText(mistyped)).toContain("count")
  })

  const reader = defineStage({
    role: "transform",
    description: "test: reads a typed port",
    options: Schema.Struct({}),
    inputs: {
      records: {
        description: "records with a text",
        schema: Schema.Struct({ text: Schema.String, tag: Schema.String.pipe(Schema.withDecodingDefaultKey(Effect.succeed("none"))) })
      }
    },
    run: (ctx) =>
      Effect.gen(function*() {
        const all = yield* ctx.inputs["records"]!.readAll()
        yield* ctx.output.append(all.map((record) => ({ seen: record })))
        yield* ctx.output.checkpoint()
      })
  })

  it("fails on an input record that does not match the port's Schema, as the runner reports it", async () => {
    const { ctx } = memoryStageContext({ name: "reader", options: {}, uses: {}, inputs: { records: memoryInput("up", [{ title: "no text" }]) } })
    const text = failureText(await runStageExit(reader, ctx))
    expect(text).toContain(`stage "reader": input port "records": record 0 of stage "up" does not match the port's Schema`)
    expect(text).toContain(`["text"]`)
  })

  it("hands the stage the records as written, as the runner does (validated, not transformed)", async () => {
    const { ctx, output } = memoryStageContext({ options: {}, uses: {}, inputs: { records: memoryInput("up", [{ text: "a" }]) } })
    await runStage(reader, ctx)
    expect(output.committed).toEqual([{ seen: { text: "a" } }])
  })
})
