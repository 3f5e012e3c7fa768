import { Effect, Exit, Fiber, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeEach, describe, expect, it } from "vitest"
import { decodeRunReport, defineStage, readCommitMarker, readRunManifest, resumeRun, runRecipe, StageError, type RunManifest } from "../../src/index.ts"
import {
  counterStage,
  doubleStage,
  greeterLog,
  greeterResource,
  greetStage,
  makeRecipe,
  readJsonl,
  sumStage,
  tempDir
} from "./fixtures.ts"

const pipeline = (count = 50, factor = 2) =>
  makeRecipe({
    stages: {
      numbers: { component: counterStage, options: { count } },
      doubled: { component: doubleStage, options: { factor }, inputs: { records: "numbers" } },
      total: { component: sumStage, inputs: { records: "doubled" } }
    }
  })

const eventTypes = (runDir: string) => readJsonl(path.join(runDir, "events.jsonl")).map((event) => event["type"])
const statuses = (manifest: RunManifest) => Object.fromEntries(Object.entries(manifest.stages).map(([name, stage]) => [name, stage.status]))

describe("runRecipe", () => {
  let runsDir: string
  let cacheDir: string
  beforeEach(() => {
    runsDir = tempDir("runs")
    cacheDir = tempDir("cache")
    greeterLog.length = 0
  })

  it("runs stages in order and writes the run directory", async () => {
    const { runDir, manifest } = await Effect.runPromise(runRecipe(pipeline(), { runsDir, cacheDir }))
    expect(path.basename(runDir)).toMatch(/^test-\d{8}-\d{6}-[0-9a-f]{4}$/)
    expect(manifest.status).toBe("completed")
    expect(statuses(manifest)).toEqual({ numbers: "completed", doubled: "completed", total: "completed" })
    const numbers = readJsonl(path.join(runDir, "stages/numbers/records.jsonl"))
    const doubled = readJsonl(path.join(runDir, "stages/doubled/records.jsonl"))
    expect(numbers.map((record) => record["i"])).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(doubled.map((record) => record["value"])).toEqual(numbers.map((record) => Number(record["value"]) * 2))
    const expectedSum = doubled.reduce((acc, record) => acc + Number(record["value"]), 0)
    expect(fs.readFileSync(path.join(runDir, "stages/total/sum.txt"), "utf8")).toBe(String(expectedSum))
    expect(manifest.metrics["total"]).toEqual({ sum: expectedSum })

    const onDisk = await Effect.runPromise(readRunManifest(runDir))
    expect(onDisk.status).toBe("completed")
    expect(onDisk.node).toBe(process.version)
    expect(onDisk.core.name).toBe("@refine-af/core")
    expect(onDisk.stages["numbers"]?.outputHash).toMatch(/^[0-9a-f]{64}$/)
    expect(fs.existsSync(path.join(runDir, "recipe.yaml"))).toBe(true)
    expect(fs.readFileSync(path.join(runDir, "report.md"), "utf8")).toContain("total")
    // Every run writes its report in three forms; the JSON decodes with its Schema.
    const report = decodeRunReport(JSON.parse(fs.readFileSync(path.join(runDir, "report.json"), "utf8")))
    expect(report.stages.map((stage) => [stage.name, stage.status])).toEqual(Object.entries(onDisk.stages).map(([name, stage]) => [name, stage.status]))
    expect(fs.readFileSync(path.join(runDir, "report.html"), "utf8")).toContain(`<h1>Run report: ${onDisk.runId}</h1>`)

    const events = readJsonl(path.join(runDir, "events.jsonl"))
    for (const event of events) expect(Number.isNaN(Date.parse(String(event["ts"])))).toBe(false)
    expect(eventTypes(runDir)[0]).toBe("run_start")
    expect(eventTypes(runDir).at(-1)).toBe("run_end")
    expect(eventTypes(runDir).filter((type) => type === "stage_end")).toHaveLength(3)
  })

  it("hits the cache for unchanged stages and re-runs changed ones", async () => {
    const first = await Effect.runPromise(runRecipe(pipeline(), { runsDir, cacheDir }))
    const second = await Effect.runPromise(runRecipe(pipeline(), { runsDir, cacheDir }))
    expect(statuses(second.manifest)).toEqual({ numbers: "cached", doubled: "cached", total: "cached" })
    expect(eventTypes(second.runDir).filter((type) => type === "cache_hit")).toHaveLength(3)
    for (const stage of ["numbers", "doubled", "total"]) {
      expect(second.manifest.stages[stage]?.outputHash).toBe(first.manifest.stages[stage]?.outputHash)
    }
    expect(second.manifest.metrics["total"]).toEqual(first.manifest.metrics["total"])
    expect(first.manifest.stages["total"]?.data).toEqual({ count: 50 })
    expect(second.manifest.stages["total"]?.data).toEqual({ count: 50 })
    expect(fs.readFileSync(path.join(second.runDir, "stages/doubled/records.jsonl"), "utf8"))
      .toBe(fs.readFileSync(path.join(first.runDir, "stages/doubled/records.jsonl"), "utf8"))

    const changed = await Effect.runPromise(runRecipe(pipeline(50, 3), { runsDir, cacheDir }))
    expect(statuses(changed.manifest)).toEqual({ numbers: "cached", doubled: "completed", total: "completed" })

    const uncached = await Effect.runPromise(runRecipe(pipeline(), { runsDir, cacheDir, cache: false }))
    expect(statuses(uncached.manifest)).toEqual({ numbers: "completed", doubled: "completed", total: "completed" })
  })

  it("makes resources lazily and releases them at the end", async () => {
    const recipe = makeRecipe({
      stages: { hello: { component: greetStage, uses: { greeter: "greeter" } } },
      resources: { greeter: { component: greeterResource, options: { word: "hi" } } }
    })
    const first = await Effect.runPromise(runRecipe(recipe, { runsDir, cacheDir }))
    expect(readJsonl(path.join(first.runDir, "stages/hello/records.jsonl"))).toEqual([{ greeting: "hi" }])
    expect(greeterLog).toEqual(["make greeter", "release greeter"])
    await Effect.runPromise(runRecipe(recipe, { runsDir, cacheDir }))
    expect(greeterLog).toEqual(["make greeter", "release greeter"]) // cache hit: no model made

    const other = makeRecipe({
      stages: { hello: { component: greetStage, uses: { greeter: "greeter" } } },
      resources: { greeter: { component: greeterResource, options: { word: "hello" } } }
    })
    const third = await Effect.runPromise(runRecipe(other, { runsDir, cacheDir }))
    expect(third.manifest.stages["hello"]?.status).toBe("completed") // resource options are part of the key
  })

  it("marks a failing stage, releases resources, and resumes after the fix", async () => {
    let broken = true
    const flaky = defineStage({
      role: "transform",
      description: "fails while broken",
      options: Schema.Struct({}),
      uses: {},
      run: (ctx) =>
        broken
          ? Effect.fail(new StageError({ stage: ctx.name, message: "the flux capacitor is broken", fix: "repair it" }))
          : ctx.output.append([{ ok: true }])
    })
    const recipe = makeRecipe({
      stages: {
        numbers: { component: counterStage, options: { count: 5 } },
        flaky: { component: flaky },
        hello: { component: greetStage, uses: { greeter: "greeter" } }
      },
      resources: { greeter: { component: greeterResource, options: { word: "hi" } } }
    })
    const exit = await Effect.runPromiseExit(runRecipe(recipe, { runsDir, cacheDir }))
    expect(Exit.isFailure(exit)).toBe(true)
    const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)
    const failed = await Effect.runPromise(readRunManifest(runDir))
    expect(failed.status).toBe("failed")
    expect(failed.stages["flaky"]?.status).toBe("failed")
    expect(failed.stages["flaky"]?.error).toContain("flux capacitor")
    expect(failed.error).toContain("flux capacitor")
    expect(failed.stages["hello"]?.status).toBe("pending")

    // What a kill mid-write leaves in the stage's folders: temporary files of atomic writes, which the continued stage must not keep.
    const stale = [path.join(runDir, "stages", "flaky", "curves.jsonl.4242.tmp"), path.join(runDir, "stages", "flaky", "adapter", "weights.tmp"), path.join(runDir, "state", "flaky", "policy-checkpoint.safetensors.tmp-4242")]
    for (const file of stale) {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, "half")
    }
    broken = false
    const resumed = await Effect.runPromise(resumeRun(runDir, recipe, { cacheDir }))
    expect(stale.filter((file) => fs.existsSync(file))).toEqual([])
    expect(resumed.manifest.status).toBe("completed")
    expect(resumed.manifest.attempts).toHaveLength(2)
    expect(statuses(resumed.manifest)).toEqual({ numbers: "completed", flaky: "completed", hello: "completed" })
    expect(eventTypes(runDir)).toContain("stage_reused")
    expect(greeterLog).toEqual(["make greeter", "release greeter"])
  })

  it("warns when a stage that is not marked deterministic continues after committed records", async () => {
    let attempt = 0
    const sampler = defineStage({
      role: "generator",
      description: "not deterministic; fails once after committing records",
      options: Schema.Struct({}),
      run: (ctx) =>
        Effect.gen(function*() {
          attempt++
          if (attempt === 1) {
            yield* ctx.output.append([{ n: 0 }, { n: 1 }])
            yield* ctx.output.checkpoint()
            return yield* Effect.fail(new StageError({ stage: ctx.name, message: "flaky sampler" }))
          }
          yield* ctx.output.append([{ n: ctx.output.resumedCount }])
        })
    })
    const recipe = makeRecipe({ stages: { sample: { component: sampler } } })
    await Effect.runPromiseExit(runRecipe(recipe, { runsDir, cacheDir }))
    const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)
    await Effect.runPromise(resumeRun(runDir, recipe))
    const warnings = readJsonl(path.join(runDir, "events.jsonl")).filter((event) => event["type"] === "warning")
    expect(warnings).toHaveLength(1)
    expect(String(warnings[0]?.["message"])).toContain("not marked deterministic")
    expect(readJsonl(path.join(runDir, "stages/sample/records.jsonl"))).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }])
  })

  it("a resume whose override changes the unfinished stage says that stage starts again and its committed records are dropped", async () => {
    let attempt = 0
    const stepper = defineStage({
      role: "generator",
      description: "commits records, then fails on its first attempt",
      deterministic: true,
      options: Schema.Struct({ rate: Schema.Number }),
      run: (ctx) =>
        Effect.gen(function*() {
          attempt++
          if (attempt === 1) {
            yield* ctx.output.append([{ n: 0 }, { n: 1 }])
            yield* ctx.output.checkpoint()
            return yield* Effect.fail(new StageError({ stage: ctx.name, message: "diverged" }))
          }
          yield* ctx.output.append([{ resumedAfter: ctx.output.resumedCount, rate: ctx.options.rate }])
        })
    })
    const withRate = (rate: number) => makeRecipe({ stages: { train: { component: stepper, options: { rate } } } })
    await Effect.runPromiseExit(runRecipe(withRate(1), { runsDir, cacheDir }))
    const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)
    await Effect.runPromise(resumeRun(runDir, withRate(0.5), { cacheDir }))
    const warnings = readJsonl(path.join(runDir, "events.jsonl")).filter((event) => event["type"] === "warning").map((event) => String(event["message"]))
    expect(warnings).toEqual([expect.stringMatching(/changed since the unfinished attempt, so it runs again from its start \(that attempt's 2 committed records and checkpoint are dropped\)/)])
    expect(readJsonl(path.join(runDir, "stages/train/records.jsonl"))).toEqual([{ resumedAfter: 0, rate: 0.5 }])
  })

  it("re-runs a finished stage whose files were modified before a resume", async () => {
    let failing = true
    const gate = defineStage({
      role: "transform",
      description: "fails until opened",
      options: Schema.Struct({}),
      run: (ctx) => (failing ? Effect.fail(new StageError({ stage: ctx.name, message: "closed" })) : Effect.void)
    })
    const recipe = makeRecipe({
      stages: {
        numbers: { component: counterStage, options: { count: 20 } },
        doubled: { component: doubleStage, inputs: { records: "numbers" } },
        gate: { component: gate }
      }
    })
    await Effect.runPromiseExit(runRecipe(recipe, { runsDir, cacheDir, cache: false }))
    const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)
    const numbersFile = path.join(runDir, "stages/numbers/records.jsonl")
    const original = fs.readFileSync(numbersFile, "utf8")
    fs.writeFileSync(numbersFile, original.split("\n").slice(0, 3).join("\n") + "\n") // a user "tidied" the file

    failing = false
    const resumed = await Effect.runPromise(resumeRun(runDir, recipe, { cache: false }))
    expect(resumed.manifest.status).toBe("completed")
    expect(fs.readFileSync(numbersFile, "utf8")).toBe(original)
    expect(readJsonl(path.join(runDir, "stages/doubled/records.jsonl"))).toHaveLength(20)
  })

  it("on interrupt keeps committed records, and resume reproduces an uninterrupted run", async () => {
    const slow = () =>
      makeRecipe({
        stages: {
          numbers: { component: counterStage, options: { count: 200, delayMs: 5 } },
          doubled: { component: doubleStage, inputs: { records: "numbers" } }
        }
      })
    const reference = await Effect.runPromise(runRecipe(slow(), { runsDir: tempDir("reference"), cacheDir, cache: false }))

    const fiber = Effect.runFork(runRecipe(slow(), { runsDir, cacheDir, cache: false, checkpoint: { everyRecords: 7, everyMs: 1e9 } }))
    // Interrupt once some records are committed (polling, not a fixed sleep: the machine may be slow).
    const numbersDir = () => path.join(runsDir, fs.readdirSync(runsDir)[0] ?? "none", "stages", "numbers")
    while (fs.readdirSync(runsDir).length === 0 || (readCommitMarker(numbersDir()) as { count: number }).count < 10) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const exit = await Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
    expect(Exit.hasInterrupts(exit)).toBe(true)
    const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)
    const interrupted = await Effect.runPromise(readRunManifest(runDir))
    expect(interrupted.status).toBe("interrupted")
    expect(interrupted.stages["numbers"]?.status).toBe("interrupted")
    const partial = readJsonl(path.join(runDir, "stages/numbers/records.jsonl"))
    expect(partial.length).toBeGreaterThan(0)
    expect(partial.length).toBeLessThan(200)

    const ends: Array<[string, string]> = []
    const progress = { stageStart: () => {}, progress: () => {}, stageEnd: (stage: string, line: string) => ends.push([stage, line]), message: () => {} }
    const resumed = await Effect.runPromise(resumeRun(runDir, slow(), { cache: false, progress }))
    expect(resumed.manifest.status).toBe("completed")
    // The resumed stage's time is this attempt's, and its line says so; the other stage ran whole.
    expect(ends.map(([stage, line]) => [stage, line.replace(/[\d.]+s/, "Ts")])).toEqual([["numbers", `done, 200 records in Ts (this attempt; resumed after ${partial.length} records)`], ["doubled", "done, 200 records in Ts"]])
    for (const stage of ["numbers", "doubled"]) {
      expect(fs.readFileSync(path.join(runDir, `stages/${stage}/records.jsonl`), "utf8"))
        .toBe(fs.readFileSync(path.join(reference.runDir, `stages/${stage}/records.jsonl`), "utf8"))
      expect(resumed.manifest.stages[stage]?.outputHash).toBe(reference.manifest.stages[stage]?.outputHash)
    }
    const starts = readJsonl(path.join(runDir, "events.jsonl")).filter((event) => event["type"] === "stage_start" && event["stage"] === "numbers")
    expect(starts.map((event) => event["resumedCount"])).toEqual([0, partial.length])
  })

  it("an abort signal interrupts the run like Ctrl-C", async () => {
    const controller = new AbortController()
    const recipe = makeRecipe({ stages: { numbers: { component: counterStage, options: { count: 100_000, delayMs: 1 } } } })
    const running = Effect.runPromiseExit(runRecipe(recipe, { runsDir, cacheDir, signal: controller.signal, checkpoint: { everyRecords: 5 } }))
    const numbersDir = () => path.join(runsDir, fs.readdirSync(runsDir)[0] ?? "none", "stages", "numbers")
    while (fs.readdirSync(runsDir).length === 0 || (readCommitMarker(numbersDir()) as { count: number }).count < 5) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    controller.abort()
    const exit = await running
    expect(Exit.hasInterrupts(exit)).toBe(true)
    const manifest = await Effect.runPromise(readRunManifest(path.join(runsDir, fs.readdirSync(runsDir)[0]!)))
    expect(manifest.status).toBe("interrupted")
    expect(manifest.stages["numbers"]?.status).toBe("interrupted")
  })

  it("refuses to resume something that is not a run directory", async () => {
    const exit = await Effect.runPromiseExit(resumeRun(tempDir("empty"), pipeline()))
    const error = Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error : undefined
    expect(error?._tag).toBe("RunDirInvalid")
  })

  it("a run directory whose manifest.json is cut off is a damaged run (restore it, or run again), not 'not a run directory'", async () => {
    const dir = tempDir("cut-manifest")
    fs.writeFileSync(path.join(dir, "manifest.json"), '{"formatVersion": 1, "runId": ')
    const error = await Effect.runPromise(Effect.flip(readRunManifest(dir)))
    expect(error.message).toMatch(/manifest\.json is not valid JSON .*: the run's record of its stages is damaged/)
    expect(error.message).not.toContain("not a run directory")
    expect(error.fix).toMatch(/^restore .*manifest\.json.*or start the run again/)
  })

  it("a run folder killed as it started (stages/ and recipe.yaml, no manifest yet) is said to be that, not 'not a run directory'", async () => {
    const dir = tempDir("started-only")
    fs.mkdirSync(path.join(dir, "stages"))
    fs.writeFileSync(path.join(dir, "recipe.yaml"), "# resolved\n")
    const error = await Effect.runPromise(Effect.flip(readRunManifest(dir)))
    expect(error.message).toContain("stopped as it started, before it wrote manifest.json")
    expect(error.fix).toMatch(/^run the recipe again/)
    // A folder that never was a run keeps the plain answer.
    const plain = await Effect.runPromise(Effect.flip(readRunManifest(tempDir("not-a-run"))))
    expect(plain.message).toContain("is not a run directory")
  })
})
