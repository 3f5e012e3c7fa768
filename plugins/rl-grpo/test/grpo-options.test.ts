/**
 * `grpo/train`'s learning-rate schedule: one scheduler step per optimizer update
 * (Hugging Face's Trainer, which TRL's GRPOTrainer is), linear decay to 0 by
 * default (TRL's `lr_scheduler_type`), optional warmup; and its loss options
 * (clipHigh, Dr. GRPO's aggregation, masking truncated completions, GSPO) — checked
 * on the updates the trainer asks of the policy (a spy around the table policy).
 */
import { Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { JsonRecord } from "@refine-af/core"
import { makeRuleReward, RuleSet } from "@refine-af/reward-rules"
import { runTrainerStage, stepSpy, tableEos, tablePolicyModel } from "@refine-af/testing"
import { GrpoOptions, grpoStage } from "../src/index.ts"

const prompts: Array<JsonRecord> = ["the answer is", "count to", "my number:"].map((prompt) => ({ prompt }))
const run = async (options: Record<string, unknown>) => {
  const spy = stepSpy(tablePolicyModel({ seed: 3, contextLength: 48 }))
  const result = await runTrainerStage(grpoStage, Schema.decodeUnknownSync(GrpoOptions)(options), {
    policy: spy.policy,
    reward: makeRuleReward("digit", Schema.decodeUnknownSync(RuleSet)({ rules: [{ kind: "contains-digit" }] }))
  }, prompts)
  expect(Exit.isSuccess(result.exit), JSON.stringify(result.exit)).toBe(true)
  return { ...result, updates: spy.updates }
}
const base = { steps: 5, promptsPerStep: 2, samplesPerPrompt: 4, lr: 0.05, lora: { rank: 4, alpha: 8, targets: ["table"] }, sampling: { maxNewTokens: 3 } }

describe("grpo/train learning-rate schedule", () => {
  it("default: linear decay to 0 over all optimizer updates (μ = 2, two minibatches: 4 per iteration); `lr` records each iteration's first", { timeout: 120_000 }, async () => {
    const { records, updates } = await run({ ...base, miniBatchSize: 4, iterations: 2 })
    const total = 5 * 4
    expect(updates).toHaveLength(total)
    // Hugging Face's get_linear_schedule_with_warmup without warmup: lr · (T − s) / T at update s.
    updates.forEach((u, s) => expect(u.lr, `update ${s}`).toBeCloseTo((0.05 * (total - s)) / total, 15))
    records.forEach((r, i) => expect(r["lr"] as number).toBeCloseTo((0.05 * (total - 4 * i)) / total, 15))
  })

  it("warmup then cosine; constant keeps lr", { timeout: 120_000 }, async () => {
    const { updates } = await run({ ...base, warmupSteps: 2, schedule: "cosine" })
    expect(updates.map((u) => u.lr)).toHaveLength(5)
    const expected = [0, 0.025, 0.05, 0.05 * 0.5 * (1 + Math.cos(Math.PI / 3)), 0.05 * 0.5 * (1 + Math.cos((2 * Math.PI) / 3))]
    updates.forEach((u, s) => expect(u.lr, `update ${s}`).toBeCloseTo(expected[s]!, 15))
    expect((await run({ ...base, schedule: "constant" })).updates.every((u) => u.lr === 0.05)).toBe(true)
  })

  it("maskTruncated: the keep feed is 0 on exactly the completions the token limit cut off; `truncated` records their share", { timeout: 120_000 }, async () => {
    const { records, updates } = await run({ ...base, maskTruncated: true })
    expect(updates).toHaveLength(5)
    let cut = 0
    updates.forEach((u, i) => {
      expect(u.objective).toContain(",maskTruncated")
      const truncated = u.batch.map((seq) => {
        const completion = seq.tokens.slice(seq.promptLength)
        return completion.length === 3 && completion.at(-1) !== tableEos
      })
      u.feeds["keep"]!.forEach((row, r) => expect(row.every((v) => v === (truncated[r] ? 0 : 1)), `update ${i} row ${r}`).toBe(true))
      expect(records[i]!["truncated"]).toBeCloseTo(truncated.filter(Boolean).length / truncated.length, 15)
      cut += truncated.filter(Boolean).length
    })
    expect(cut, "the toy run cuts some completions off").toBeGreaterThan(0)
  })

  it("clipHigh, Dr. GRPO's constant aggregation (its length: sampling.maxNewTokens) and GSPO's sequence ratio reach the objective", { timeout: 120_000 }, async () => {
    const { updates } = await run({ ...base, steps: 1, clipHigh: 0.28, aggregation: "constant", scaleRewards: false })
    expect(updates[0]!.objective).toMatch(/aggregation=constant,clipHigh=0\.28,length=3$/)
    const gspo = await run({ ...base, steps: 1, importanceSampling: "sequence" })
    expect(gspo.updates[0]!.objective).toMatch(/,importance=sequence$/)
  })
})
