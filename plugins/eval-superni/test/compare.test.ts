import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { TablesFile } from "@refine-af/core"
import {
  compareRuns,
  CompareStageOptions,
  compareStage,
  defaultCompareOptions,
  type PredictionRecord
} from "../src/index.ts"
import { makeMemoryStage, memoryInput } from "./support/memoryContext.ts"
import { runStage, runStageExit } from "./support/runStage.ts"

/** A run's records from per-task per-instance ROUGE-L values (EM = 1 when ROUGE-L is 1). */
const run = (tasks: Record<string, { category: string; rougeL: ReadonlyArray<number> }>): Array<PredictionRecord> =>
  Object.entries(tasks).flatMap(([task, { category, rougeL }]) =>
    rougeL.map((value, index) => ({
      task,
      category,
      id: `${task}-${index}`,
      prediction: "p",
      references: ["r"],
      rougeL: value,
      exactMatch: value === 1 ? 1 : 0
    }))
  )

const baselineRecords = run({
  t1: { category: "Title Generation", rougeL: [0.2, 0.4] },
  t2: { category: "Title Generation", rougeL: [0.5, 0.5] },
  t3: { category: "Word Analogy", rougeL: [1, 0] },
  t4: { category: "Word Analogy", rougeL: [0, 0] }
})
const candidateRecords = run({
  t1: { category: "Title Generation", rougeL: [0.4, 0.6] }, // +20
  t2: { category: "Title Generation", rougeL: [0.5, 0.5] }, // tied
  t3: { category: "Word Analogy", rougeL: [0, 0] }, // -50 ROUGE-L, -50 EM
  t4: { category: "Word Analogy", rougeL: [0.5, 1] } // +75 ROUGE-L, +50 EM
})
const options = { ...defaultCompareOptions, resamples: 500 }

describe("compareRuns", () => {
  it("computes per-task deltas, outcome counts and per-category tables", async () => {
    const comparison = await Effect.runPromise(
      compareRuns({ name: "base", records: baselineRecords }, { name: "cand", records: candidateRecords }, options)
    )
    expect(comparison.tasks.map((task) => [task.task, task.outcome])).toEqual([
      ["t1", "improved"],
      ["t2", "tied"],
      ["t3", "worse"],
      ["t4", "improved"]
    ])
    expect(comparison.tasks[0]!.delta).toBeCloseTo(20, 9)
    expect(comparison.tasks[3]!.delta).toBeCloseTo(75, 9)
    expect(comparison.counts).toEqual({ improved: 2, tied: 1, worse: 1 })
    expect(comparison.bootstrap.shareImproved.estimate).toBe(50)
    expect(comparison.bootstrap.meanDelta.estimate).toBeCloseTo((20 + 0 - 50 + 75) / 4, 9)
    const titles = comparison.categories.find((category) => category.category === "Title Generation")!
    expect(titles).toMatchObject({ tasks: 2, improved: 1, tied: 1, worse: 0 })
    expect(titles.baseline).toBeCloseTo(40, 9)
    expect(titles.candidate).toBeCloseTo(50, 9)
    expect(comparison.overall.baseline.rougeL).toBeCloseTo(32.5, 9)
  })

  it("uses exact match for classification categories under the official metric", async () => {
    const comparison = await Effect.runPromise(
      compareRuns({ name: "base", records: baselineRecords }, { name: "cand", records: candidateRecords }, { ...options, metric: "official" })
    )
    const t4 = comparison.tasks.find((task) => task.task === "t4")!
    expect(t4.metric).toBe("exactMatch")
    expect(t4.delta).toBeCloseTo(50, 9)
    expect(comparison.tasks.find((task) => task.task === "t1")!.metric).toBe("rougeL")
  })

  it("identical runs: every task tied, nothing improved", async () => {
    const comparison = await Effect.runPromise(
      compareRuns({ name: "a", records: baselineRecords }, { name: "b", records: baselineRecords }, options)
    )
    expect(comparison.counts).toEqual({ improved: 0, tied: 4, worse: 0 })
    expect(comparison.bootstrap.shareImproved).toEqual({ estimate: 0, low: 0, high: 0 })
    expect(comparison.bootstrap.meanDelta).toEqual({ estimate: 0, low: 0, high: 0 })
  })

  it("pairs by (task, id) regardless of order, counting unmatched instances", async () => {
    const shuffled = candidateRecords.filter((record) => record.id !== "t1-0").reverse()
    const comparison = await Effect.runPromise(
      compareRuns({ name: "base", records: baselineRecords }, { name: "cand", records: shuffled }, options)
    )
    expect(comparison.instances).toBe(7)
    expect(comparison.unmatched).toEqual({ baselineOnly: 1, candidateOnly: 0 })
    expect(comparison.tasks[0]).toMatchObject({ task: "t1", instances: 1 })
    expect(comparison.tasks[0]!.delta).toBeCloseTo(20, 9)
  })

  it("fails clearly when the runs share no instance", async () => {
    const other = baselineRecords.map((record) => ({ ...record, id: `x-${record.id}` }))
    const error = await Effect.runPromise(
      Effect.flip(compareRuns({ name: "base", records: baselineRecords }, { name: "other", records: other }, options))
    )
    expect(error._tag).toBe("PredictionsMismatch")
    expect(error.message).toContain("share no (task, instance id) pair")
  })
})

describe("superni/compare", () => {
  const decode = Schema.decodeUnknownSync(CompareStageOptions)
  const json = (records: ReadonlyArray<PredictionRecord>) => records.map((record) => ({ ...record, references: [...record.references] }))

  it("compares every listed candidate with the baseline and writes the reports", async () => {
    const stage = makeMemoryStage({
      name: "compare",
      options: decode({ resamples: 300 }),
      uses: {},
      inputs: { baseline: memoryInput("eval_base", json(baselineRecords)) },
      inputLists: { candidates: [memoryInput("eval_rlaf", json(candidateRecords)), memoryInput("eval_same", json(baselineRecords))] }
    })
    const summary = await runStage(compareStage, stage.ctx)
    expect(stage.records).toHaveLength(8)
    // Counts under count names (a metric called tasksImproved used to hold the percentage), the share under its own.
    const improved = stage.records.filter((record) => record["candidateRun"] === "eval_rlaf" && record["outcome"] === "improved").length
    expect(improved).toBe(2)
    expect(summary?.metrics).toMatchObject({ "eval_rlaf.tasksImproved": improved, "eval_rlaf.tasksImprovedPct": 50, "eval_same.tasksImproved": 0, "eval_same.tasksImprovedPct": 0, "eval_same.tasksWorse": 0 })
    expect(stage.records[0]).toMatchObject({ baselineRun: "eval_base", candidateRun: "eval_rlaf", task: "t1", outcome: "improved" })
    for (const file of ["report.md", "report.html", "comparison.json"]) expect(existsSync(path.join(stage.ctx.dir, file))).toBe(true)
    const markdown = readFileSync(path.join(stage.ctx.dir, "report.md"), "utf8")
    expect(markdown).toContain("## eval_rlaf vs eval_base")
    expect(markdown).toContain("## Summary")
    expect(markdown).toMatch(/\| eval_same \| eval_base \| 4 \| 0\.0% \| 0\.0% – 0\.0% \| 4 \| 0 \| 0\.00 \| 0\.00 – 0\.00 \|/)
    expect(markdown).toContain("improved on 2 of 4 tasks (50.0%")
    const saved = JSON.parse(readFileSync(path.join(stage.ctx.dir, "comparison.json"), "utf8"))
    expect(saved.comparisons).toHaveLength(2)
    expect(saved.comparisons[0].bootstrap.seed).toBe(stage.ctx.seed)
    // The run report's tables: the paired result per candidate, then per category and per task.
    const { tables } = Schema.decodeUnknownSync(TablesFile)(JSON.parse(readFileSync(path.join(stage.ctx.dir, "tables.json"), "utf8")))
    const rlaf = saved.comparisons[0].counts
    expect(rlaf.improved).toBe(2)
    expect(tables[0]!.rows.map((row) => row.slice(0, 8))).toEqual([
      ["eval_rlaf", "eval_base", "rougeL", 4, 2, rlaf.tied, rlaf.worse, 50],
      ["eval_same", "eval_base", "rougeL", 4, 0, 4, 0, 0]
    ])
    expect(tables.map((table) => table.title)).toEqual(["Paired comparison with the baseline", "Per category: eval_rlaf vs eval_base", "Per task: eval_rlaf vs eval_base", "Per category: eval_same vs eval_base", "Per task: eval_same vs eval_base"])
    expect(tables[2]!.rows).toHaveLength(4)
    // Every column says what it holds: the run report lists a row as "column: value" lines, where two "CI" read alike.
    for (const table of tables) expect(new Set(table.columns).size).toBe(table.columns.length)
    expect(markdown).toContain("| Candidate | Baseline | Tasks | Improved | Improved CI | Tied | Worse | Mean Δ | Mean Δ CI |")
  })

  it("rejects upstream records that are not SuperNI predictions", async () => {
    const stage = makeMemoryStage({
      name: "compare",
      options: decode({}),
      uses: {},
      inputs: { baseline: memoryInput("lines", [{ text: "hello" }]) },
      inputLists: { candidates: [memoryInput("eval", json(candidateRecords))] }
    })
    const { exit } = await runStageExit(compareStage, stage.ctx)
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain("record 1 of stage \"lines\" is not a SuperNI prediction")
  })
})
