/**
 * `ppo/train` learns a toy task on the table policy: the reward is 1 when the
 * completion contains a digit. With a fixed seed, the mean reward of the last
 * iterations exceeds that of the first ones by a stated margin.
 */
import { Exit } from "effect"
import { describe, expect, it } from "vitest"
import { runPpo, toyOptions, toyPrompts } from "./support/harness.ts"


const MARGIN = 0.25

describe("ppo/train on the toy digit task", () => {
  it(`mean reward rises by at least ${MARGIN} (first 3 vs last 3 iterations), metrics complete`, { timeout: 120_000 }, async () => {
    const { exit, records, dir } = await runPpo(toyOptions)
    expect(Exit.isSuccess(exit), JSON.stringify(exit)).toBe(true)
    expect(records.map((r) => r["step"])).toEqual([...Array(16).keys()])
    const rewards = records.map((r) => r["reward_mean"] as number)
    const first = (rewards[0]! + rewards[1]! + rewards[2]!) / 3
    const last = (rewards[13]! + rewards[14]! + rewards[15]!) / 3
    console.log(`ppo toy: reward ${rewards.map((r) => r.toFixed(2)).join(" ")}`)
    expect(last - first).toBeGreaterThan(MARGIN)
    for (const key of ["reward_std", "kl", "kl_coef", "entropy", "clip_fraction", "approx_kl", "value_loss", "policy_loss", "explained_variance", "lr", "grad_norm"]) expect(typeof records[5]![key], key).toBe("number")
    expect(Object.keys(records[5]!["time"] as object)).toEqual(["sample_s", "reward_s", "evaluate_s", "train_s"])
    expect(records[5]!["reward_parts"]).toHaveProperty("contains-digit")
    const { readdirSync, readFileSync } = await import("node:fs")
    expect(readdirSync(`${dir}/adapter`).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors"])
    // For the run report: one curve point per iteration, and rollouts of the last iteration with their reward parts.
    const curves = readFileSync(`${dir}/curves.jsonl`, "utf8").trim().split("\n").map((line) => JSON.parse(line))
    expect(curves.map((point) => [point.step, point.reward_mean, point.loss])).toEqual(records.map((r) => [r["step"], r["reward_mean"], r["loss"]]))
    expect(Object.keys(curves[0]).sort()).toEqual(["entropy", "kl", "loss", "reward_mean", "step"])
    const samples = (exit as Exit.Success<{ data: { report: { samples: Array<Record<string, unknown>> } } }>).value.data.report.samples
    expect(samples).toHaveLength(3)
    for (const sample of samples) {
      expect(sample["group"]).toBe("rollouts of iteration 16")
      expect(toyPrompts.map((p) => p["prompt"])).toContain(sample["prompt"])
      expect(sample["parts"]).toHaveProperty("contains-digit")
      expect(typeof sample["reward"]).toBe("number")
    }
  })
})
