/**
 * A stage's warnings travel with its cached output: a run served from the cache repeats them
 * (events and run report), so an all-cached run does not hide that, say, a third of the
 * generations hit maxNewTokens.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { decodeRunReport, defineStage, resumeRun, runRecipe, StageError } from "../../src/index.ts"
import { makeRecipe, readJsonl, tempDir } from "./fixtures.ts"

const warning = defineStage({
  role: "generator",
  description: "writes one record and warns",
  deterministic: true,
  options: Schema.Struct({}),
  run: (ctx) =>
    Effect.gen(function*() {
      yield* ctx.output.append([{ n: 1 }])
      yield* ctx.events.warn("5 of 16 generations hit maxNewTokens=16")
    })
})

const warningsIn = (runDir: string) => ({
  events: readJsonl(path.join(runDir, "events.jsonl")).filter((event) => event["type"] === "warning").map((event) => [event["stage"], event["message"]]),
  report: decodeRunReport(JSON.parse(fs.readFileSync(path.join(runDir, "report.json"), "utf8"))).warnings
})

describe("warnings of cached stages", () => {
  it("are repeated by a cache hit, in its events and its run report, marked as from the cached run", async () => {
    const runsDir = tempDir("runs")
    const cacheDir = tempDir("cache")
    const recipe = makeRecipe({ stages: { gen: { component: warning } } })
    const lines: Array<string> = []
    const progress = { stageStart: () => {}, progress: () => {}, stageEnd: (_: string, line: string) => lines.push(line), message: (line: string) => lines.push(line) }
    const first = await Effect.runPromise(runRecipe(recipe, { runsDir, cacheDir, progress }))
    const second = await Effect.runPromise(runRecipe(recipe, { runsDir, cacheDir, progress }))
    // One record is "1 record", done or from the cache.
    expect(lines.filter((line) => /\b1 record\b/.test(line)).map((line) => line.replace(/[\d.]+s$/, "Ts"))).toEqual(["done, 1 record in Ts", "[1/1] gen: cache hit (1 record)"])
    expect(second.manifest.stages["gen"]?.status).toBe("cached")
    expect(warningsIn(first.runDir).events).toEqual([["gen", "5 of 16 generations hit maxNewTokens=16"]])
    const again = warningsIn(second.runDir)
    expect(again.events).toEqual([["gen", "5 of 16 generations hit maxNewTokens=16 (from when the cached output was made)"]])
    expect(again.report).toEqual([{ stage: "gen", message: "5 of 16 generations hit maxNewTokens=16 (from when the cached output was made)" }])
  })

  it("a stage that warned, failed and ran again on resume warns again: the run report says it once", async () => {
    let failed = false
    const flaky = defineStage({
      role: "generator",
      description: "warns, then fails the first time",
      deterministic: true,
      options: Schema.Struct({}),
      run: (ctx) =>
        Effect.gen(function*() {
          yield* ctx.events.warn("5 of 16 generations hit maxNewTokens=16")
          if (!failed) {
            failed = true
            return yield* new StageError({ stage: ctx.name, message: "killed" })
          }
          yield* ctx.output.append([{ n: 1 }])
        })
    })
    const runsDir = tempDir("runs")
    const recipe = makeRecipe({ stages: { gen: { component: flaky } } })
    await Effect.runPromiseExit(runRecipe(recipe, { runsDir, cache: false }))
    const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)
    await Effect.runPromise(resumeRun(runDir, recipe, { cache: false }))
    const { events, report } = warningsIn(runDir)
    expect(events).toHaveLength(2)
    expect(report).toEqual([{ stage: "gen", message: "5 of 16 generations hit maxNewTokens=16" }])
  })
})
