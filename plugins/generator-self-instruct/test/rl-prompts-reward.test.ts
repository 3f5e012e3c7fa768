/**
 * `self-instruct/rl-prompts` sends the same prompts and stops as
 * `self-instruct/instances`, and `self-instruct/instance-reward` reads
 * completions back with the instances parser, scores pairs, penalises the
 * unreadable.
 */
import { Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { ScorerError, type GenerationRequest, type JsonRecord, type Sample, type ScorerService } from "@refine-af/core"
import { InstanceRewardOptions, InstancesOptions, instancesStage, makeInstanceReward, RlPromptsOptions, rlPromptsStage } from "../src/index.ts"
import { memoryContext, memoryInput, type MemoryWriter } from "./support/memoryContext.ts"
import { runStage, runStageExit } from "@refine-af/testing"
import { scriptedModel } from "./support/scriptedModel.ts"

const tasks: Array<JsonRecord> = [
  { id: "g0", instruction: "Add the two numbers.", is_classification: false },
  { id: "g1", instruction: "Is the review positive or negative?", is_classification: true },
  { id: "g2", instruction: "Name a famous   painter.", is_classification: null }
]

describe("self-instruct/rl-prompts", () => {
  it("emits exactly the prompts and stop strings the instances stage sends", async () => {
    const seen: Array<GenerationRequest> = []
    const lm = scriptedModel((request) => (seen.push(request), { text: "Input: x\nOutput: y" }))
    const inst = memoryContext({ options: Schema.decodeUnknownSync(InstancesOptions)({ maxInstances: 3 }), uses: { model: lm }, seed: 1, inputs: { instructions: memoryInput("c", tasks) } })
    await runStage(instancesStage, inst.ctx)
    const rl = memoryContext({ options: Schema.decodeUnknownSync(RlPromptsOptions)({ maxInstances: 3 }), uses: {}, seed: 1, inputs: { instructions: memoryInput("c", tasks) } })
    const summary = await runStage(rlPromptsStage, rl.ctx)
    await Effect.runPromise(rl.ctx.output.checkpoint()) // the runner commits at stage end
    const rows = (rl.ctx.output as MemoryWriter).committed
    expect(rows.map((r) => r["prompt"])).toEqual(seen.map((r) => r.prompt))
    expect(rows.map((r) => r["stop"])).toEqual(seen.map((r) => r.params.stop))
    expect(rows[0]!["stop"]).toEqual(["Task:", "Example 4"])
    expect(rows[1]!["stop"]).toEqual(["Task:"])
    expect(rows.map((r) => [r["is_classification"], r["template"], r["instruction_id"], r["task_index"]])).toEqual([
      [false, "input-first/v1", "g0", 0],
      [true, "output-first/v1", "g1", 1],
      [false, "input-first/v1", "g2", 2]
    ])
    expect(summary).toMatchObject({ metrics: { prompts: 3, output_first: 1, input_first: 2 } })
  })

  it("names the record that has no instruction", async () => {
    const rl = memoryContext({ options: Schema.decodeUnknownSync(RlPromptsOptions)({}), uses: {}, seed: 1, inputs: { instructions: memoryInput("c", [{ instruction: "ok" }, { text: "no" }]) } })
    const exit = await runStageExit(rlPromptsStage, rl.ctx)
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toMatch(/upstream record 1 has no non-empty \\"instruction\\"/)
  })
})

/** A scorer: 1 per character of output (a part), +10 when the input is non-empty (another part). */
const lengthScorer = (calls: Array<ReadonlyArray<Sample>>): ScorerService => ({
  name: "length",
  score: (samples) => {
    calls.push(samples)
    return Effect.succeed(samples.map((s) => ({ value: s.output.length + (s.input === "" ? 0 : 10), parts: { chars: s.output.length, has_input: s.input === "" ? 0 : 1 } })))
  }
})

const reward = (options: Record<string, unknown>, scorer: ScorerService) => makeInstanceReward("reward", Schema.decodeUnknownSync(InstanceRewardOptions)(options), scorer)

describe("self-instruct/instance-reward", () => {
  const plain = { instruction: "Add the two numbers.", is_classification: false }
  const classify = { instruction: "Positive or negative?", is_classification: true }

  it("parses input-first and output-first completions with the instances parser and scores (instruction, input, output)", async () => {
    const calls: Array<ReadonlyArray<Sample>> = []
    const scores = await Effect.runPromise(
      reward({ maxPairs: 2 }, lengthScorer(calls)).reward([
        { record: plain, completion: "Input: 2 and 3\nOutput: 5\nExample 2\nInput:\nOutput: 123", finishReason: "stop" },
        { record: classify, completion: " Positive\nInput: Lovely staff.", finishReason: "stop" }
      ])
    )
    expect(calls[0]).toEqual([
      { instruction: "Add the two numbers.", input: "2 and 3", output: "5" },
      { instruction: "Add the two numbers.", input: "", output: "123" },
      { instruction: "Positive or negative?", input: "Lovely staff.", output: "Positive" }
    ])
    expect(scores[0]!.value).toBe((11 + 3) / 2)
    expect(scores[0]!.parts).toEqual({ pairs: 2, unparsable_blocks: 0, unparsable: 0, chars: 2, has_input: 0.5 })
    expect(scores[1]!.value).toBe(18)
  })

  it("an unreadable completion (or only a torn pair at the length limit) gets the penalty; parts say why", async () => {
    const calls: Array<ReadonlyArray<Sample>> = []
    const scores = await Effect.runPromise(
      reward({ unparsablePenalty: -2.5 }, lengthScorer(calls)).reward([
        { record: plain, completion: "I do not know.", finishReason: "stop" },
        { record: plain, completion: "Input: 2 and 3\nOutput: 5", finishReason: "length" },
        { record: plain, completion: "Input: 2 and 3\nOutput: 5", finishReason: "eos" }
      ])
    )
    expect(scores.map((s) => s.value)).toEqual([-2.5, -2.5, 11])
    expect(scores[0]!.parts).toEqual({ pairs: 0, unparsable_blocks: 1, unparsable: 1 })
    expect(scores[1]!.parts).toEqual({ pairs: 0, unparsable_blocks: 0, unparsable: 1 })
    expect(calls[0]!.length).toBe(1) // only the readable pair was scored
  })

  it("fails with a RewardError naming the rollout without an instruction, and passes scorer errors on", async () => {
    const bad = await Effect.runPromiseExit(reward({}, lengthScorer([])).reward([{ record: plain, completion: "" }, { record: { prompt: "x" }, completion: "" }]))
    expect(JSON.stringify(bad)).toMatch(/rollout 1: its prompt record has no \\"instruction\\"/)
    const failing: ScorerService = { name: "broken", score: () => Effect.fail(new ScorerError({ scorer: "broken", message: "model missing", fix: "load it" })) }
    const exit = await Effect.runPromiseExit(reward({}, failing).reward([{ record: plain, completion: "Output: 1" }]))
    expect(JSON.stringify(exit)).toMatch(/RewardError.*scorer broken failed: model missing/)
  })
})

describe("self-instruct/rl-prompts from seed tasks", () => {
  it("with no instructions port, builds the prompts of the bundled seed tasks", async () => {
    const rl = memoryContext({ options: Schema.decodeUnknownSync(RlPromptsOptions)({}), uses: {}, seed: 1 })
    const summary = await runStage(rlPromptsStage, rl.ctx)
    await Effect.runPromise(rl.ctx.output.checkpoint())
    const rows = (rl.ctx.output as MemoryWriter).committed
    expect(rows.length).toBe(46)
    expect(rows[0]).toMatchObject({ instruction: "Suggest a packing list for a weekend camping trip in early spring.", instruction_id: "refine_seed_0", is_classification: false, stop: ["Task:", "Example 2"] })
    expect(String(rows[0]!["prompt"])).toMatch(/Task: Suggest a packing list for a weekend camping trip in early spring\.\nExample 1\n$/)
    expect(rows.some((r) => r["is_classification"] === true && String(r["prompt"]).endsWith("Class label:"))).toBe(true)
    expect(summary).toMatchObject({ metrics: { prompts: 46 } })
  })
})
