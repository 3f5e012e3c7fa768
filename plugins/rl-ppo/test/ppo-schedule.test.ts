/**
 * `ppo/train`'s TRL options beyond the loss: the learning-rate schedule (one
 * scheduler step per iteration, as TRL's classic PPOTrainer), `ratioThreshold`
 * (a micro-batch whose mean ratio exceeds it is skipped) and `targetKl` early
 * stopping — checked on the updates the trainer asks of the policy (a spy
 * around the table policy), not only on what it reports.
 */
import { Exit } from "effect"
import { describe, expect, it } from "vitest"
import { stepSpy } from "@refine-af/testing"
import { runPpo, toyOptions, toyPolicy } from "./support/harness.ts"

/** Updates per iteration of the toy settings: 2 epochs × 16 rollouts / 8 per minibatch. */
const FULL = 4

describe("ppo/train: schedule, ratio threshold, early stopping", () => {
  it("warmup then linear decay, one scheduler step per iteration: every update of iteration i runs at the schedule's lr, recorded as `lr`", { timeout: 120_000 }, async () => {
    const spy = stepSpy(toyPolicy())
    const steps = 6
    const { exit, records } = await runPpo({ ...toyOptions, steps, warmupSteps: 2, schedule: "linear" }, { policy: spy.policy })
    expect(Exit.isSuccess(exit), JSON.stringify(exit)).toBe(true)
    // Hugging Face's get_linear_schedule_with_warmup, transcribed: i/W during warmup, then (T − i)/(T − W).
    const expected = Array.from({ length: steps }, (_, i) => (i < 2 ? (0.05 * i) / 2 : (0.05 * (steps - i)) / (steps - 2)))
    records.forEach((r, i) => expect(r["lr"] as number, `iteration ${i}`).toBeCloseTo(expected[i]!, 15))
    expect(spy.updates).toHaveLength(steps * FULL)
    spy.updates.forEach((u, j) => expect(u.lr, `update ${j}`).toBeCloseTo(expected[Math.floor(j / FULL)]!, 15))
    expect(records.map((r) => r["updates"])).toEqual(Array(steps).fill(FULL))
  })

  it("sampling settings reach the policy's sampler as written, topP 0 included (it used to be dropped as falsy)", { timeout: 120_000 }, async () => {
    const spy = stepSpy(toyPolicy())
    const { exit } = await runPpo({ ...toyOptions, steps: 1, sampling: { ...toyOptions.sampling, topP: 0, topK: 3 } }, { policy: spy.policy })
    expect(Exit.isSuccess(exit), JSON.stringify(exit)).toBe(true)
    expect(spy.samplings.length).toBeGreaterThan(0)
    for (const call of spy.samplings) expect(call.params).toMatchObject({ topP: 0, topK: 3, maxNewTokens: 3 })
  })

  it("the default (constant, TRL classic) keeps lr; a ratio threshold below every mean ratio skips every update: the policy never moves (KL 0 throughout)", { timeout: 120_000 }, async () => {
    const spy = stepSpy(toyPolicy())
    const { exit, records } = await runPpo({ ...toyOptions, steps: 4, ratioThreshold: 0.5 }, { policy: spy.policy })
    expect(Exit.isSuccess(exit), JSON.stringify(exit)).toBe(true)
    expect(spy.updates.every((u) => u.lr === 0.05)).toBe(true)
    expect(spy.updates.every((u) => u.loss === 0 && u.metrics["ratio_skipped"] === 1)).toBe(true)
    expect(records.map((r) => r["ratio_skipped"])).toEqual([1, 1, 1, 1])
    // The adapter starts as the identity and no update moved it: policy = reference at every iteration.
    expect(records.map((r) => r["kl"])).toEqual([0, 0, 0, 0])
    // With TRL's default threshold (10) the same run learns: the adapter moves and nothing is skipped.
    const moved = await runPpo({ ...toyOptions, steps: 4 })
    expect(moved.records.map((r) => r["ratio_skipped"])).toEqual([0, 0, 0, 0])
    expect(moved.records[3]!["kl"]).not.toBe(0)
  })

  it("targetKl: after each epoch whose last update's policy KL exceeds 1.5 × target the remaining epochs are skipped, and never otherwise", { timeout: 120_000 }, async () => {
    const spy = stepSpy(toyPolicy())
    const targetKl = 1e-4
    const perEpoch = 2 // 16 rollouts / 8 per minibatch
    const { exit, records } = await runPpo({ ...toyOptions, steps: 6, targetKl }, { policy: spy.policy })
    expect(Exit.isSuccess(exit), JSON.stringify(exit)).toBe(true)
    const counts = records.map((r) => r["updates"] as number)
    expect(counts.reduce((a, b) => a + b, 0)).toBe(spy.updates.length)
    let at = 0
    for (const count of counts) {
      const iteration = spy.updates.slice(at, at + count)
      at += count
      expect(count % perEpoch, "whole epochs only").toBe(0)
      // Every epoch's last update but the iteration's last stayed within the bound; that one went over it unless all epochs ran.
      for (let end = perEpoch; end < count; end += perEpoch) expect(iteration[end - 1]!.metrics["policy_kl"]!).toBeLessThanOrEqual(1.5 * targetKl)
      if (count < FULL) expect(iteration.at(-1)!.metrics["policy_kl"]!).toBeGreaterThan(1.5 * targetKl)
    }
    expect(counts.some((c) => c < FULL), `updates per iteration ${counts.join(" ")}`).toBe(true)
  })

  it("groupMinibatches: each epoch's minibatches list every prompt's rollouts as one run (TRL's default shuffle scatters them)", { timeout: 120_000 }, async () => {
    // The prompts of an epoch's updates, in order; a group kept together is one run of equal prompts.
    const runsPerPrompt = (updates: ReturnType<typeof stepSpy>["updates"]) => {
      const epochs: Array<Array<string>> = []
      updates.forEach((u, j) => {
        if (j % 2 === 0) epochs.push([])
        epochs.at(-1)!.push(...u.batch.map((s) => s.tokens.slice(0, s.promptLength).join(",")))
      })
      return epochs.map((prompts) => {
        const runs = new Map<string, number>()
        prompts.forEach((p, i) => void (i > 0 && prompts[i - 1] === p ? undefined : runs.set(p, (runs.get(p) ?? 0) + 1)))
        return Math.max(...runs.values())
      })
    }
    const grouped = stepSpy(toyPolicy())
    const groupedRun = await runPpo({ ...toyOptions, steps: 3, groupMinibatches: true }, { policy: grouped.policy })
    expect(Exit.isSuccess(groupedRun.exit), JSON.stringify(groupedRun.exit)).toBe(true)
    expect(grouped.updates).toHaveLength(3 * FULL)
    expect(runsPerPrompt(grouped.updates)).toEqual(Array(3 * 2).fill(1))
    const plain = stepSpy(toyPolicy())
    await runPpo({ ...toyOptions, steps: 3 }, { policy: plain.policy })
    expect(Math.max(...runsPerPrompt(plain.updates))).toBeGreaterThan(1)
  })
})
