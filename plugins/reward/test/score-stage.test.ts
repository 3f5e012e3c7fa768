import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Exit } from "effect"
import type { JsonRecord } from "@refine-af/core"
import { describe, expect, it } from "vitest"
import { memoryInput, memoryStageContext, memoryWriter, runStage, runStageExit } from "@refine-af/testing"
import { makeCompositeScorer, makeHeuristicsScorer, score } from "../src/index.ts"

const lines: Array<JsonRecord> = [
  { id: 1, instruction: "Name three fruits.", output: "Apple, pear and plum." },
  { id: 2, instruction: "Repeat: hi there", input: "", output: "Repeat: hi there" },
  { id: 3, instruction: "Say nothing.", input: "", output: "" }
]
const scorer = makeCompositeScorer("c", [{ name: "pass", slot: "heuristics", part: "pass", weight: 2 }, { name: "copy", slot: "heuristics", part: "copy", weight: -1 }], 0.25, {
  heuristics: makeHeuristicsScorer()
})

const writeSamples = (text: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "score-stage-"))
  fs.writeFileSync(path.join(dir, "samples.jsonl"), text)
  return dir
}

describe("reward/score", () => {
  it("scores a JSONL file and writes each record with its score and breakdown", async () => {
    const recipeDir = writeSamples(lines.map((l) => JSON.stringify(l)).join("\n") + "\n")
    const { ctx, output } = memoryStageContext({ options: { path: "samples.jsonl", batch_size: 2 }, uses: { scorer }, recipeDir, output: memoryWriter([], { durableOnAppend: true }) })
    const summary = await runStage(score, ctx)
    expect(output.committed.map((r) => [r["id"], r["score"]])).toEqual([[1, 2.25], [2, -0.75], [3, 0.25]])
    expect(output.committed[1]!["score_parts"]).toEqual({ pass: 0, "pass.weighted": 0, copy: 1, "copy.weighted": -1, bias: 0.25 })
    expect(summary && summary.metrics).toMatchObject({ scored: 3, mean_score: (2.25 - 0.75 + 0.25) / 3 })
  })

  it("resumes after the durable records and keeps the metrics whole", async () => {
    const { ctx, output } = memoryStageContext({
      options: { batch_size: 1 },
      uses: { scorer },
      inputs: { records: memoryInput("gen", lines) },
      output: memoryWriter([{ ...lines[0]!, score: 2.25, score_parts: { pass: 1 } }], { durableOnAppend: true })
    })
    const summary = await runStage(score, ctx)
    expect(output.committed.map((r) => r["id"])).toEqual([1, 2, 3])
    expect(summary && summary.metrics?.["mean_score"]).toBeCloseTo((2.25 - 0.75 + 0.25) / 3, 12)
  })

  it("names the file, line and field of a bad sample", async () => {
    const recipeDir = writeSamples('{"instruction":"a","output":"b"}\n{"instruction":"a","answer":"b"}\n')
    const { ctx } = memoryStageContext({ options: { path: "samples.jsonl" }, uses: { scorer }, recipeDir })
    const exit = await runStageExit(score, ctx)
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toMatch(/samples\.jsonl:2: field "output" is missing/)
  })

  it("reads a file that starts with a byte order mark; refuses one that is not UTF-8, and one with no samples", async () => {
    const withBom = writeSamples(`\ufeff${JSON.stringify(lines[0])}\n`)
    const bom = memoryStageContext({ options: { path: "samples.jsonl" }, uses: { scorer }, recipeDir: withBom })
    await runStage(score, bom.ctx)
    expect(bom.output.committed.map((r) => r["id"])).toEqual([1])

    const latin1 = fs.mkdtempSync(path.join(os.tmpdir(), "score-stage-"))
    fs.writeFileSync(path.join(latin1, "samples.jsonl"), Buffer.concat([Buffer.from('{"instruction":"caf'), Buffer.from([0xe9]), Buffer.from('","output":"x"}\n')]))
    const notUtf8 = await runStageExit(score, memoryStageContext({ options: { path: "samples.jsonl" }, uses: { scorer }, recipeDir: latin1 }).ctx)
    expect(String(notUtf8)).toMatch(/samples\.jsonl is not UTF-8 text: byte 20 \(line 1\)/)

    const empty = await runStageExit(score, memoryStageContext({ options: { path: "samples.jsonl" }, uses: { scorer }, recipeDir: writeSamples("\n\n") }).ctx)
    expect(String(empty)).toMatch(/samples\.jsonl holds no samples/)
  })
})
