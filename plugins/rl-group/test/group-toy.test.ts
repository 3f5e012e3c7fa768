/**
 * `group/grpo` and `group/rloo` learn the toy digit task on the table policy
 * (fixed seed): the mean reward of the last 3 iterations exceeds that of the
 * first 3 by a stated margin; a crash + resume gives the same adapter and
 * metrics; GRPO's k3 KL is reported and grows from 0 as the adapter moves.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Exit } from "effect"
import { describe, expect, it } from "vitest"
import type { JsonRecord } from "@refine-af/core"
import { runGroup, toyOptions } from "./support/harness.ts"

const MARGIN = 0.25
const withoutTime = (records: ReadonlyArray<JsonRecord>) => records.map(({ time: _time, ...rest }) => rest)

describe.each(["grpo", "rloo"] as const)("group/%s", (algorithm) => {
  it(`mean reward rises by at least ${MARGIN} on the toy digit task`, { timeout: 120_000 }, async () => {
    const { exit, records } = await runGroup(algorithm, toyOptions)
    expect(Exit.isSuccess(exit), JSON.stringify(exit)).toBe(true)
    const rewards = records.map((r) => r["reward_mean"] as number)
    console.log(`${algorithm} toy: reward ${rewards.map((r) => r.toFixed(2)).join(" ")}`)
    const n = rewards.length
    expect(n).toBe(16)
    expect((rewards[n - 1]! + rewards[n - 2]! + rewards[n - 3]!) / 3 - (rewards[0]! + rewards[1]! + rewards[2]!) / 3).toBeGreaterThan(MARGIN)
    for (const key of ["kl", "entropy", "clip_fraction", "approx_kl", "policy_loss", "grad_norm", "lr", "zero_std_groups"]) expect(typeof records[4]![key], key).toBe("number")
    expect(records[0]!["kl"]).toBe(0) // the adapter starts as the identity: policy = reference
    expect(records[n - 1]!["kl"] as number).toBeGreaterThan(0)
  })

  it("a crash after 5 durable iterations, then resume → identical adapter and metrics", { timeout: 120_000 }, async () => {
    const options = { ...toyOptions, steps: 8, checkpointEvery: 3 }
    const reference = await runGroup(algorithm, options)
    const first = await runGroup(algorithm, options, { crashAfter: 5 })
    expect(Exit.isFailure(first.exit)).toBe(true)
    const second = await runGroup(algorithm, options, { stateDir: first.stateDir, dir: first.dir, resumed: first.records })
    expect(Exit.isSuccess(second.exit)).toBe(true)
    expect(withoutTime(second.records)).toEqual(withoutTime(reference.records))
    const bytes = (dir: string) => readFileSync(join(dir, "adapter", "adapter_model.safetensors"))
    expect(bytes(second.dir).equals(bytes(reference.dir))).toBe(true)
    // The report's curves: one point per iteration, the crashed attempt's included, identical to the reference.
    const curves = readFileSync(join(second.dir, "curves.jsonl"), "utf8")
    expect(curves).toBe(readFileSync(join(reference.dir, "curves.jsonl"), "utf8"))
    expect(curves.trim().split("\n").map((line) => JSON.parse(line).reward_mean)).toEqual(reference.records.map((r) => r["reward_mean"]))
  })
})
