/**
 * `grpo/train` learns the toy digit task on the table policy (fixed seed):
 * the mean reward of the last 3 iterations exceeds that of the first 3 by a
 * stated margin; a crash + resume gives the same adapter and metrics; the k3 KL
 * is reported and grows from 0 as the adapter moves. (Through the CLI: kill -9
 * and failure drills in tests/e2e/rl-drills.test.ts.)
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { JsonRecord } from "@refine-af/core"
import { makeRuleReward, RuleSet } from "@refine-af/reward-rules"
import { runTrainerStage, tablePolicyModel, type TrainerRun } from "@refine-af/testing"
import { GrpoOptions, grpoStage } from "../src/index.ts"

const MARGIN = 0.25
const prompts: Array<JsonRecord> = ["the answer is", "count to", "my number:", "give a code", "pick one", "say it"].map((prompt) => ({ prompt }))
/** Small batches, a large constant learning rate for the table policy (not TRL's linear decay: 16 iterations are few), 3-token completions. */
const toyOptions = { steps: 16, promptsPerStep: 4, samplesPerPrompt: 4, miniBatchSize: 4, lr: 0.05, schedule: "constant", beta: 0.02, lora: { rank: 4, alpha: 8, targets: ["table"] }, sampling: { maxNewTokens: 3 }, checkpointEvery: 4 }
const run = (options: Record<string, unknown>, at: TrainerRun = {}) =>
  runTrainerStage(grpoStage, Schema.decodeUnknownSync(GrpoOptions)(options), {
    policy: tablePolicyModel({ seed: 3, contextLength: 48 }),
    reward: makeRuleReward("digit", Schema.decodeUnknownSync(RuleSet)({ rules: [{ kind: "contains-digit" }] }))
  }, prompts, at)
const withoutTime = (records: ReadonlyArray<JsonRecord>) => records.map(({ time: _time, ...rest }) => rest)

describe("grpo/train", () => {
  it(`mean reward rises by at least ${MARGIN} on the toy digit task`, { timeout: 120_000 }, async () => {
    const { exit, records } = await run(toyOptions)
    expect(Exit.isSuccess(exit), JSON.stringify(exit)).toBe(true)
    const rewards = records.map((r) => r["reward_mean"] as number)
    console.log(`grpo toy: reward ${rewards.map((r) => r.toFixed(2)).join(" ")}`)
    const n = rewards.length
    expect(n).toBe(16)
    expect((rewards[n - 1]! + rewards[n - 2]! + rewards[n - 3]!) / 3 - (rewards[0]! + rewards[1]! + rewards[2]!) / 3).toBeGreaterThan(MARGIN)
    for (const key of ["kl", "entropy", "clip_fraction", "approx_kl", "policy_loss", "grad_norm", "lr", "zero_std_groups"]) expect(typeof records[4]![key], key).toBe("number")
    expect(records[0]!["kl"]).toBe(0) // the adapter starts as the identity: policy = reference
    expect(records[n - 1]!["kl"] as number).toBeGreaterThan(0)
  })

  for (const variant of [{ policyLoss: "cispo" }, { policyLoss: "sapo" }, { topEntropyQuantile: 0.5, entropyCoef: 0.01 }, { scaleRewards: "batch", delta: 4 }]) {
    it(`${JSON.stringify(variant)}: mean reward rises by at least ${MARGIN} too`, { timeout: 120_000 }, async () => {
      const { exit, records } = await run({ ...toyOptions, ...variant })
      expect(Exit.isSuccess(exit), JSON.stringify(exit)).toBe(true)
      const rewards = records.map((r) => r["reward_mean"] as number)
      console.log(`grpo toy ${JSON.stringify(variant)}: reward ${rewards.map((r) => r.toFixed(2)).join(" ")}`)
      const n = rewards.length
      expect((rewards[n - 1]! + rewards[n - 2]! + rewards[n - 3]!) / 3 - (rewards[0]! + rewards[1]! + rewards[2]!) / 3).toBeGreaterThan(MARGIN)
    })
  }

  it.each([{}, { entropyCoef: 0.01, adaptiveEntropy: { target: 100, delta: 0.01 } }])("a crash after 5 durable iterations, then resume → identical adapter and metrics %j", { timeout: 120_000 }, async (extra) => {
    // With adaptive entropy the controller's state must come back with the checkpoint, or the resumed updates would weigh the bonus differently.
    const options = { ...toyOptions, ...extra, steps: 8, checkpointEvery: 3 }
    const reference = await run(options)
    const first = await run(options, { crashAfter: 5 })
    expect(Exit.isFailure(first.exit)).toBe(true)
    const second = await run(options, { stateDir: first.stateDir, dir: first.dir, resumed: first.records })
    expect(Exit.isSuccess(second.exit)).toBe(true)
    expect(withoutTime(second.records)).toEqual(withoutTime(reference.records))
    const bytes = (dir: string) => readFileSync(join(dir, "adapter", "adapter_model.safetensors"))
    expect(bytes(second.dir).equals(bytes(reference.dir))).toBe(true)
    // The report's curves: one point per iteration, the crashed attempt's included, identical to the reference.
    const curves = readFileSync(join(second.dir, "curves.jsonl"), "utf8")
    expect(curves).toBe(readFileSync(join(reference.dir, "curves.jsonl"), "utf8"))
    expect(curves.trim().split("\n").map((line) => JSON.parse(line).reward_mean)).toEqual(reference.records.map((r) => r["reward_mean"]))
  })

  it("killed after the final checkpoint, before the stage committed: the resume runs no iteration and returns the uninterrupted summary", { timeout: 120_000 }, async () => {
    const options = { ...toyOptions, steps: 6, checkpointEvery: 3 }
    const reference = await run(options)
    expect(Exit.isSuccess(reference.exit)).toBe(true)
    const summary = (exit: typeof reference.exit) => (Exit.isSuccess(exit) ? exit.value : undefined) as { metrics?: Record<string, number>; data?: { report?: { samples?: ReadonlyArray<unknown> } } } | undefined
    expect(Object.keys(summary(reference.exit)?.metrics ?? {}).length).toBeGreaterThan(5)
    expect(summary(reference.exit)?.data?.report?.samples?.length).toBeGreaterThan(0)
    // The reference's folders hold what such a kill leaves: every record durable, the final checkpoint written.
    const resumed = await run(options, { stateDir: reference.stateDir, dir: reference.dir, resumed: reference.records })
    expect(Exit.isSuccess(resumed.exit), JSON.stringify(resumed.exit)).toBe(true)
    expect(resumed.records).toHaveLength(reference.records.length)
    expect(summary(resumed.exit)).toEqual(summary(reference.exit))
  })
})
