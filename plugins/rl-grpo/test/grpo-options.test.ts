/**
 * `grpo/train`'s learning-rate schedule: one scheduler step per optimizer update
 * (Hugging Face's Trainer, which TRL's GRPOTrainer is), linear decay to 0 by
 * default (TRL's `lr_scheduler_type`), optional warmup; and its loss options
 * (clipHigh, Dr. GRPO's aggregation, masking truncated completions, GSPO, reward
 * scaling, the high-entropy token mask, the policy-term forms and their option
 * checks) — checked on the updates the trainer asks of the policy (a spy around
 * the table policy) against the rewards and entropies it was given.
 */
import { Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { JsonRecord } from "@refine-af/core"
import { makeRuleReward, RuleSet } from "@refine-af/reward-rules"
import { runTrainerStage, stepSpy, tableEos, tablePolicyModel } from "@refine-af/testing"
import { GrpoOptions, grpoStage } from "../src/index.ts"

const prompts: Array<JsonRecord> = ["the answer is", "count to", "my number:"].map((prompt) => ({ prompt }))
const run = async (options: Record<string, unknown>) => {
  const spy = stepSpy(tablePolicyModel({ seed: 3, contextLength: 48 }))
  const digit = makeRuleReward("digit", Schema.decodeUnknownSync(RuleSet)({ rules: [{ kind: "contains-digit" }] }))
  // The rewards the trainer was given, call by call.
  const rewards: Array<Array<number>> = []
  const reward = { ...digit, reward: (items: Parameters<typeof digit.reward>[0]) => Effect.tap(digit.reward(items), (out) => Effect.sync(() => rewards.push(out.map((r) => r.value)))) }
  const result = await runTrainerStage(grpoStage, Schema.decodeUnknownSync(GrpoOptions)(options), { policy: spy.policy, reward }, prompts)
  expect(Exit.isSuccess(result.exit), JSON.stringify(result.exit)).toBe(true)
  return { ...result, updates: spy.updates, evaluations: spy.evaluations, samplings: spy.samplings, rewards }
}
/** For each row of an update, the index of its rollout in the iteration (the update's rows are a shuffled minibatch of the same sequences the trainer evaluated). */
const rolloutIndices = (update: { readonly batch: ReadonlyArray<unknown> }, evaluated: { readonly batch: ReadonlyArray<unknown> }) =>
  update.batch.map((seq) => {
    const i = evaluated.batch.indexOf(seq)
    expect(i).toBeGreaterThanOrEqual(0)
    return i
  })
const base = { steps: 5, promptsPerStep: 2, samplesPerPrompt: 4, lr: 0.05, lora: { rank: 4, alpha: 8, targets: ["table"] }, sampling: { maxNewTokens: 3 } }

describe("grpo/train sampling", () => {
  it("passes the sampling settings to the policy's sampler as written, topP 0 included (it used to be dropped as falsy)", { timeout: 120_000 }, async () => {
    const r = await run({ ...base, steps: 1, sampling: { maxNewTokens: 3, topP: 0, topK: 3 } })
    expect(r.samplings.length).toBeGreaterThan(0)
    for (const call of r.samplings) expect(call.params).toMatchObject({ topP: 0, topK: 3, maxNewTokens: 3 })
  })
})

describe("grpo/train groupMinibatches", () => {
  it("keeps each group's k rollouts in one minibatch of k, where the default shuffle mixes groups", { timeout: 120_000 }, async () => {
    const groupsOf = (r: Awaited<ReturnType<typeof run>>) =>
      r.updates.map((u, j) => new Set(rolloutIndices(u, r.evaluations[Math.floor(j / 2) * (r.evaluations.length / r.records.length)]!).map((i) => Math.floor(i / 4))).size)
    const grouped = await run({ ...base, steps: 3, miniBatchSize: 4, groupMinibatches: true })
    expect(grouped.updates).toHaveLength(3 * 2)
    expect(groupsOf(grouped)).toEqual(Array(6).fill(1))
    const shuffled = await run({ ...base, steps: 3, miniBatchSize: 4 })
    expect(Math.max(...groupsOf(shuffled))).toBeGreaterThan(1)
  })
})

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

  it("scaleRewards batch: each group centred on its mean, divided by the std of the iteration's rewards (+1e-4); true / false are group / none", { timeout: 120_000 }, async () => {
    const k = base.samplesPerPrompt
    const { updates, rewards, evaluations } = await run({ ...base, steps: 3, scaleRewards: "batch" })
    let spread = 0
    updates.forEach((u, step) => {
      const r = rewards[step]!
      const mean = r.reduce((a, x) => a + x, 0) / r.length
      const s = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / (r.length - 1)) + 1e-4
      const rows = rolloutIndices(u, evaluations.filter((e) => e.want?.entropy === true)[step]!)
      u.feeds["advantages"]!.forEach((row, j) => {
        const i = rows[j]!
        const group = r.slice(Math.floor(i / k) * k, Math.floor(i / k) * k + k)
        row.forEach((v) => expect(v, `step ${step} row ${i}`).toBeCloseTo((r[i]! - group.reduce((a, x) => a + x, 0) / k) / s, 12))
      })
      spread += s > 1e-3 ? 1 : 0
    })
    expect(spread, "some iteration has unequal rewards").toBeGreaterThan(0)
    const none = await run({ ...base, steps: 1, scaleRewards: false })
    const noneRows = rolloutIndices(none.updates[0]!, none.evaluations.find((e) => e.want?.entropy === true)!)
    none.updates[0]!.feeds["advantages"]!.forEach((row, j) => {
      const i = noneRows[j]!
      const group = none.rewards[0]!.slice(Math.floor(i / k) * k, Math.floor(i / k) * k + k)
      expect(row[0]).toBeCloseTo(none.rewards[0]![i]! - group.reduce((a, x) => a + x, 0) / k, 12)
    })
  })

  it("topEntropyQuantile: the highEntropy feed keeps the top share of the minibatch's tokens by the rollouts' evaluated entropy, and only those", { timeout: 120_000 }, async () => {
    const { updates, evaluations } = await run({ ...base, steps: 2, topEntropyQuantile: 0.4, entropyCoef: 0.01 })
    const withEntropy = evaluations.filter((e) => e.want?.entropy === true)
    expect(withEntropy).toHaveLength(2)
    updates.forEach((u, step) => {
      expect(u.objective).toMatch(/,highEntropy,entropyCoef=0\.01$/)
      const rows = rolloutIndices(u, withEntropy[step]!)
      const entropies = rows.flatMap((i) => withEntropy[step]!.heads[i]!.entropy!)
      const kept = u.feeds["highEntropy"]!.flat()
      expect(kept).toHaveLength(entropies.length)
      const keptValues = entropies.filter((_, i) => kept[i] === 1)
      const dropped = entropies.filter((_, i) => kept[i] === 0)
      // Every kept token's entropy is at least every dropped one's, and the kept share is about ρ (ties may keep more).
      expect(Math.min(...keptValues)).toBeGreaterThanOrEqual(Math.max(...dropped))
      expect(keptValues.length).toBeGreaterThanOrEqual(Math.floor(0.4 * (entropies.length - 1)) + 1)
      expect(dropped.length, `step ${step}: some tokens are dropped`).toBeGreaterThan(0)
    })
    // ρ = 1 (the default): no feed is read, no entropy head is asked of the update.
    expect((await run({ ...base, steps: 1 })).updates[0]!.objective).not.toContain("highEntropy")
  })

  it("policyLoss cispo / sapo, delta, offPolicyMask and biasCorrectedKl reach the objective; the table policy trains with them", { timeout: 120_000 }, async () => {
    expect((await run({ ...base, steps: 1, policyLoss: "cispo", cispoMax: 4 })).updates[0]!.objective).toMatch(/,policyLoss=cispo,cispoMax=4$/)
    expect((await run({ ...base, steps: 1, policyLoss: "sapo", sapoTemperature: { negative: 2 } })).updates[0]!.objective).toMatch(/,policyLoss=sapo,sapoTemperature=1\/2$/)
    expect((await run({ ...base, steps: 1, delta: 3 })).updates[0]!.objective).toMatch(/,delta=3$/)
    const masked = await run({ ...base, steps: 2, iterations: 2, offPolicyMask: 0.01, biasCorrectedKl: true })
    expect(masked.updates[0]!.objective).toMatch(/,offPolicyMask=0\.01,biasCorrectedKl$/)
    // The first pass is on-policy (no drift, nothing masked); the second runs after an update.
    expect(masked.updates[0]!.metrics["off_policy_masked"]).toBe(0)
    expect(masked.records.every((r) => typeof r["off_policy_masked"] === "number")).toBe(true)
  })

  it("options of another policy term are refused with the fix", () => {
    const decode = (o: Record<string, unknown>) => () => Schema.decodeUnknownSync(GrpoOptions)(o)
    expect(decode({ policyLoss: "cispo", delta: 2 })).toThrow(/delta applies to policyLoss clip, not cispo: remove delta or set policyLoss: clip/)
    expect(decode({ policyLoss: "cispo", clipHigh: 4 })).toThrow(/cispo's cap is cispoMax, which TRL calls epsilon_high/)
    expect(decode({ cispoMax: 4 })).toThrow(/cispoMax applies to policyLoss cispo, not clip/)
    expect(decode({ policyLoss: "cispo", sapoTemperature: { positive: 2 } })).toThrow(/sapoTemperature applies to policyLoss sapo, not cispo/)
    expect(decode({ delta: 1 })).toThrow(/delta/)
    expect(decode({ topEntropyQuantile: 1.2 })).toThrow(/topEntropyQuantile/)
    expect(decode({ scaleRewards: "std" })).toThrow(/scaleRewards/)
  })

  it("adaptiveEntropy (Skywork-OR1, TRL use_adaptive_entropy): the weight fed to each update follows the controller; entropy_coef is recorded", { timeout: 120_000 }, async () => {
    // A target above any entropy: every update measures ≤ target, so the coefficient rises by delta each time (capped at max)
    // and applies from the second update on (the first has no measurement yet).
    const rising = await run({ ...base, steps: 3, miniBatchSize: 4, entropyCoef: 0.01, adaptiveEntropy: { target: 100, delta: 0.02, max: 0.08 } })
    expect(rising.updates).toHaveLength(6)
    const applied = rising.updates.map((u) => u.feeds["entropyWeight"]![0]![0]!)
    rising.updates.forEach((u, i) => {
      expect(u.objective).toMatch(/,entropyWeight$/)
      expect(u.feeds["entropyWeight"]!.flat().every((w) => w === applied[i]), `update ${i}: one weight on every token`).toBe(true)
      expect(u.metrics["kept_entropy"]!).toBeLessThanOrEqual(100)
    })
    const expected = [0, 0.03, 0.05, 0.07, 0.08, 0.08]
    applied.forEach((w, i) => expect(w, `update ${i}`).toBeCloseTo(expected[i]!, 12))
    // The record holds the coefficient after the iteration's last update.
    expect(rising.records.map((r) => r["entropy_coef"] as number)).toEqual([0.05, 0.08, 0.08].map((x) => expect.closeTo(x, 12)))
    // A target of 0: every entropy is above it, the coefficient falls to min and is never applied.
    const falling = await run({ ...base, steps: 2, entropyCoef: 0.03, adaptiveEntropy: { target: 0, delta: 0.02 } })
    expect(falling.updates.every((u) => u.feeds["entropyWeight"]!.flat().every((w) => w === 0))).toBe(true)
    expect(falling.records.map((r) => r["entropy_coef"] as number)).toEqual([expect.closeTo(0.01, 12), 0])
    expect(() => Schema.decodeUnknownSync(GrpoOptions)({ adaptiveEntropy: { min: 0.5, max: 0.1 } })).toThrow(/min 0.5 exceeds max 0.1/)
  })
})
