import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import {
  openRecordWriter,
  readAllRecords,
  runRecipe,
  type EventSink,
  type LoadedPlugin,
  type ResolvedRecipe,
  type StageComponent
} from "@refine-af/core"
import demo, { count, generatedLine, lines, transform } from "../src/index.ts"

const plugin: LoadedPlugin = { specifier: "@refine-af/plugin-demo", packageName: "@refine-af/plugin-demo", packageVersion: "0.1.0", manifest: demo }
const temp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `demo-${prefix}-`))

const recipeOf = (seed: number, stages: Record<string, { component: StageComponent<any, any>; options: Record<string, any>; inputs?: Record<string, string> }>): ResolvedRecipe => ({
  file: "/nonexistent/demo.yaml",
  name: "demo-test",
  seed,
  plugins: [plugin],
  resources: {},
  stages: Object.fromEntries(Object.entries(stages).map(([name, stage]) => [name, {
    name,
    componentId: `demo/${name}`,
    plugin,
    component: stage.component,
    options: stage.options,
    rawOptions: stage.options,
    uses: {},
    inputs: stage.inputs ?? {}
  }])),
  order: Object.keys(stages),
  resourceOrder: [],
  document: { name: "demo-test" }
})

const run = (recipe: ResolvedRecipe) => Effect.runPromise(runRecipe(recipe, { runsDir: temp("runs"), cache: false }))
const recordsOf = (runDir: string, stage: string) => Effect.runPromise(readAllRecords(path.join(runDir, "stages", stage, "records.jsonl")))

const silentEvents: EventSink = { progress: () => Effect.void, metric: () => Effect.void, warn: () => Effect.void, emit: () => Effect.void }

describe("demo plugin", () => {
  it("names itself demo and exposes its components", () => {
    expect(demo.name).toBe("demo")
    expect(Object.keys(demo.components).sort()).toEqual(["count", "lines", "prefix", "prefixer", "transform"])
  })

  it("lines cycles through listed lines and generates seeded lines otherwise", async () => {
    const listed = await run(recipeOf(1, { lines: { component: lines, options: { lines: ["a", "b"], count: 5 } } }))
    expect((await recordsOf(listed.runDir, "lines")).map((record) => record["text"])).toEqual(["a", "b", "a", "b", "a"])

    const first = await run(recipeOf(1, { lines: { component: lines, options: { count: 20 } } }))
    const again = await run(recipeOf(1, { lines: { component: lines, options: { count: 20 } } }))
    const otherSeed = await run(recipeOf(2, { lines: { component: lines, options: { count: 20 } } }))
    const texts = async (runDir: string) => (await recordsOf(runDir, "lines")).map((record) => record["text"])
    expect(await texts(first.runDir)).toEqual(await texts(again.runDir))
    expect(await texts(first.runDir)).not.toEqual(await texts(otherSeed.runDir))
    for (const text of await texts(first.runDir)) expect(String(text).split(" ")).toHaveLength(6)
  })

  it("lines continues after the committed records and reproduces an uninterrupted run", async () => {
    const dir = temp("resume")
    const seed = 99
    const first = await Effect.runPromise(openRecordWriter(dir))
    await Effect.runPromise(first.append(Array.from({ length: 7 }, (_, index) => ({ index, text: generatedLine(seed, index, 4) }))))
    await Effect.runPromise(first.close())

    const writer = await Effect.runPromise(openRecordWriter(dir))
    expect(writer.resumedCount).toBe(7)
    const context = { name: "lines", options: { count: 30, words_per_line: 4 }, seed, inputs: {}, uses: {}, output: writer, dir, stateDir: dir, events: silentEvents }
    await Effect.runPromise(Effect.scoped(lines.run(context)))
    await Effect.runPromise(writer.close())
    const resumed = await Effect.runPromise(readAllRecords(path.join(dir, "records.jsonl")))
    expect(resumed).toEqual(Array.from({ length: 30 }, (_, index) => ({ index, text: generatedLine(seed, index, 4) })))
  })

  it("transform and count process their input", async () => {
    const result = await run(recipeOf(3, {
      lines: { component: lines, options: { lines: ["Hello big World", "abc"], count: 3 } },
      reversed: { component: transform, options: { operation: "reverse" }, inputs: { records: "lines" } },
      words: { component: transform, options: { operation: "reverse_words" }, inputs: { records: "lines" } },
      upper: { component: transform, options: { operation: "uppercase" }, inputs: { records: "lines" } },
      stats: { component: count, options: {}, inputs: { records: "upper" } }
    }))
    expect((await recordsOf(result.runDir, "reversed")).map((record) => record["text"])).toEqual(["dlroW gib olleH", "cba", "dlroW gib olleH"])
    expect((await recordsOf(result.runDir, "words")).map((record) => record["text"])).toEqual(["World big Hello", "abc", "World big Hello"])
    expect((await recordsOf(result.runDir, "upper")).map((record) => record["index"])).toEqual([0, 1, 2])
    const report = JSON.parse(fs.readFileSync(path.join(result.runDir, "stages", "stats", "report.json"), "utf8"))
    expect(report).toEqual({ records: 3, words: 7, chars: 15 + 3 + 15, mean_words: 7 / 3 })
    expect(result.manifest.metrics["stats"]).toEqual(report)
  })

  it("fail_at fails the stage with a StageError", async () => {
    const exit = await Effect.runPromiseExit(runRecipe(recipeOf(1, { lines: { component: lines, options: { count: 10, fail_at: 4 } } }), { runsDir: temp("fail"), cache: false }))
    const error = Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error : undefined
    expect(error?._tag).toBe("StageError")
    expect(error?.message).toContain("fail_at")
  })
})
