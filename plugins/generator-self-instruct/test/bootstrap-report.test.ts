/**
 * The bootstrap's material for the run report (`data.report`): the filter table agrees with
 * the stage's metrics, accepted samples are among the records, and each rejected sample is a
 * candidate the stage counted under its reason (the model repeats itself, so ROUGE-L rejects).
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { StageReportData } from "@refine-af/core"
import { BootstrapOptions, bootstrapStage } from "../src/index.ts"
import { memoryContext, type MemoryWriter } from "./support/memoryContext.ts"
import { runStageOk } from "./support/runStage.ts"
import { syntheticInstructionModel } from "./support/scriptedModel.ts"

describe("self-instruct/bootstrap report material", () => {
  it("holds a filter table matching the metrics and accepted / rejected samples", async () => {
    const { ctx } = memoryContext({ options: Schema.decodeUnknownSync(BootstrapOptions)({ target: 12, batchSize: 2, maxSteps: 6 }), uses: { model: syntheticInstructionModel(1) }, seed: 3 })
    const result = await runStageOk(bootstrapStage, ctx)
    const report = Schema.decodeUnknownSync(StageReportData)(result?.data?.["report"])
    const metrics = result!.metrics!
    const table = report.tables![0]!
    expect(table.title).toBe("Filter statistics")
    const count = (label: string) => table.rows.find((row) => row[0] === label)?.[1]
    expect(count("candidates parsed")).toBe(metrics["candidates"])
    expect(count("accepted")).toBe(metrics["accepted"])
    expect(count("rejected: too_similar")).toBe(metrics["too_similar"])
    const records = (ctx.output as MemoryWriter).committed.map((record) => record["instruction"])
    const accepted = report.samples!.filter((sample) => sample["group"] === "accepted instructions")
    expect(accepted.length).toBeGreaterThan(0)
    for (const sample of accepted) expect(records).toContain(sample["instruction"])
    const rejected = report.samples!.filter((sample) => sample["group"] === "rejected instructions")
    expect(rejected.length).toBeGreaterThan(0)
    for (const sample of rejected) {
      expect(metrics[String(sample["reason"])]).toBeGreaterThan(0)
      expect(records).not.toContain(sample["instruction"])
    }
  })
})
