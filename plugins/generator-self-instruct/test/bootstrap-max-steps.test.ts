/**
 * `maxSteps` bounds the bootstrap's model requests whatever the model writes:
 * a model that keeps producing a few acceptable instructions (so the idle
 * limit never fires) still stops after `maxSteps` steps, with a warning.
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { BootstrapOptions, bootstrapStage } from "../src/index.ts"
import { memoryContext, type MemoryWriter } from "./support/memoryContext.ts"
import { runStageOk } from "./support/runStage.ts"
import { syntheticInstructionModel } from "./support/scriptedModel.ts"

const decodeOptions = Schema.decodeUnknownSync(BootstrapOptions)

const countingModel = () => {
  const model = syntheticInstructionModel(1)
  let requests = 0
  return {
    model: { ...model, generate: (requestsOfCall: Parameters<typeof model.generate>[0]) => ((requests += requestsOfCall.length), model.generate(requestsOfCall)) },
    requests: () => requests
  }
}

const bootstrap = async (options: Record<string, unknown>) => {
  const counting = countingModel()
  const { ctx, events } = memoryContext({ options: decodeOptions(options), uses: { model: counting.model }, seed: 3 })
  const result = await runStageOk(bootstrapStage, ctx)
  return { result, events, records: (ctx.output as MemoryWriter).committed, requests: counting.requests() }
}

describe("self-instruct/bootstrap maxSteps", () => {
  it("is unbounded by default", () => {
    expect(decodeOptions({}).maxSteps).toBeUndefined()
  })

  it("stops after maxSteps steps (maxSteps × batchSize requests) with a warning", async () => {
    const { records, events, requests, result } = await bootstrap({ target: 1000, batchSize: 2, maxSteps: 3 })
    expect(requests).toBe(6)
    expect(records.length).toBeGreaterThan(0)
    expect(records.length).toBeLessThan(1000)
    expect(new Set(records.map((record) => record["step"]))).toEqual(new Set([0, 1, 2]))
    expect(events.filter((event) => event.type === "warn").map((event) => String(event.data["message"]))).toEqual([
      expect.stringContaining("maxSteps=3")
    ])
    expect(result ? result.data : undefined).toMatchObject({ stopped_at_max_steps: true, stopped_idle: false })
    // Progress carries the step budget, so the displayed ETA ends with the last step, not at the far target.
    expect(events.filter((event) => event.type === "progress").map((event) => [event.data["step"], event.data["steps"], event.data["total"]])).toEqual([
      [1, 3, 1000], [2, 3, 1000], [3, 3, 1000]
    ])
  })

  it("does not fire when the target is reached first", async () => {
    const { records, events, result } = await bootstrap({ target: 2, batchSize: 2, maxSteps: 50 })
    expect(records).toHaveLength(2)
    expect(events.some((event) => event.type === "warn")).toBe(false)
    expect(result ? result.data : undefined).toMatchObject({ stopped_at_max_steps: false })
  })
})
