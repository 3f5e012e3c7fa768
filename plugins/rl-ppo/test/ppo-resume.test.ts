/**
 * Crash drills for `ppo/train`: a run that dies after k durable iteration
 * records (before, at and after checkpoints) and is resumed from its state
 * folder ends with the same adapter bytes and the same metrics as an
 * uninterrupted run. A NaN reward stops the run with an error naming the
 * rollout, keeps the last good checkpoint, and a resume finishes from it.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import type { JsonRecord, RewardService } from "@refine-af/core"
import { digitReward, runPpo, toyOptions } from "./support/harness.ts"

const options = { ...toyOptions, steps: 10, checkpointEvery: 3 }

const withoutTime = (records: ReadonlyArray<JsonRecord>) => records.map(({ time: _time, ...rest }) => rest)
const adapterBytes = (dir: string) => readFileSync(join(dir, "adapter", "adapter_model.safetensors"))

describe("ppo/train resume", () => {
  it("a crash after 2, 3, 5 or 7 durable iterations, then resume → identical adapter and metrics", { timeout: 300_000 }, async () => {
    const reference = await runPpo(options)
    expect(Exit.isSuccess(reference.exit)).toBe(true)
    // Iterations the resumed attempt computes: from the last checkpoint (every 3) that is not ahead of the durable records.
    const computed: Record<number, number> = { 2: 10, 3: 10, 5: 7, 7: 4 }
    for (const crashAfter of [2, 3, 5, 7]) {
      const first = await runPpo(options, { crashAfter })
      expect(Exit.isFailure(first.exit), `crash at ${crashAfter}`).toBe(true)
      expect(first.records.length).toBeGreaterThanOrEqual(crashAfter)
      // The killed attempt's curves hold the iterations up to a completed checkpoint (every 3; the kill came right
      // after a commit of records, before that commit's checkpoint), for the report of a killed run.
      const partial = existsSync(join(first.dir, "curves.jsonl")) ? readFileSync(join(first.dir, "curves.jsonl"), "utf8").trim().split("\n").length : 0
      expect(partial % 3, `curves after a crash at ${crashAfter}`).toBe(0)
      expect(partial).toBeLessThanOrEqual(first.records.length)
      if (crashAfter >= 5) expect(partial, `curves after a crash at ${crashAfter}`).toBeGreaterThanOrEqual(3)
      let calls = 0
      const base = digitReward()
      const counting: RewardService = { name: "counting", reward: (rollouts) => (calls++, base.reward(rollouts)) }
      const second = await runPpo(options, { stateDir: first.stateDir, dir: first.dir, resumed: first.records, reward: counting })
      expect(calls, `iterations recomputed after a crash at ${crashAfter}`).toBe(computed[crashAfter])
      expect(Exit.isSuccess(second.exit), JSON.stringify(second.exit)).toBe(true)
      expect(withoutTime(second.records), `crash at ${crashAfter}`).toEqual(withoutTime(reference.records))
      expect(adapterBytes(second.dir).equals(adapterBytes(reference.dir)), `adapter after crash at ${crashAfter}`).toBe(true)
      // The report's curves come from every iteration record, durable ones of the crashed attempt included.
      expect(readFileSync(join(second.dir, "curves.jsonl"), "utf8"), `curves after crash at ${crashAfter}`).toBe(readFileSync(join(reference.dir, "curves.jsonl"), "utf8"))
    }
  })

  it("killed after the final checkpoint, before the stage committed: the resume runs no iteration and returns the uninterrupted summary (metrics, report samples)", { timeout: 300_000 }, async () => {
    const reference = await runPpo(options)
    expect(Exit.isSuccess(reference.exit)).toBe(true)
    const summary = (exit: typeof reference.exit) => (Exit.isSuccess(exit) ? exit.value : undefined) as { metrics?: Record<string, number>; data?: { report?: { samples?: ReadonlyArray<unknown> } } } | undefined
    expect(Object.keys(summary(reference.exit)?.metrics ?? {}).length).toBeGreaterThan(10)
    expect(summary(reference.exit)?.data?.report?.samples?.length).toBeGreaterThan(0)
    // The reference's folders hold what such a kill leaves: every record durable, the final checkpoint written.
    let calls = 0
    const base = digitReward()
    const counting: RewardService = { name: "counting", reward: (rollouts) => (calls++, base.reward(rollouts)) }
    const resumed = await runPpo(options, { stateDir: reference.stateDir, dir: reference.dir, resumed: reference.records, reward: counting })
    expect(Exit.isSuccess(resumed.exit), JSON.stringify(resumed.exit)).toBe(true)
    expect(calls).toBe(0)
    expect(resumed.records).toHaveLength(reference.records.length)
    expect(summary(resumed.exit)).toEqual(summary(reference.exit))
  })

  it("a checkpoint ahead of the committed records (a commit marker lost by hand) starts over with a warning: every iteration is written, as uninterrupted", { timeout: 300_000 }, async () => {
    const reference = await runPpo(options)
    const first = await runPpo(options, { crashAfter: 7 })
    expect(Exit.isFailure(first.exit)).toBe(true)
    // Only 2 records survive, but the state folder holds the checkpoint of iteration 6.
    const second = await runPpo(options, { stateDir: first.stateDir, dir: first.dir, resumed: first.records.slice(0, 2) })
    expect(Exit.isSuccess(second.exit), JSON.stringify(second.exit)).toBe(true)
    expect(withoutTime(second.records)).toEqual(withoutTime(reference.records))
    expect(adapterBytes(second.dir).equals(adapterBytes(reference.dir))).toBe(true)
    expect(second.events.filter((e) => e.type === "warn").map((e) => e.data["message"])).toEqual([expect.stringContaining("the checkpoint in")])
  })

  it("a NaN reward stops with a clear error, keeps the last good checkpoint, and resume finishes identically", { timeout: 120_000 }, async () => {
    const reference = await runPpo(options)
    let calls = 0
    const base = digitReward()
    const nanAtStep4: RewardService = { name: "flaky", reward: (rollouts) => Effect.map(base.reward(rollouts), (rs) => (calls++ === 4 ? rs.map((r, i) => (i === 2 ? { value: Number.NaN } : r)) : rs)) }
    const broken = await runPpo(options, { reward: nanAtStep4 })
    expect(Exit.isFailure(broken.exit)).toBe(true)
    expect(JSON.stringify(broken.exit)).toMatch(/step 4: the reward of rollout 2 \(prompt .*\) is NaN; nothing was learned from this step and the last checkpoint is kept/)
    const checkpoint = readdirSync(broken.stateDir)
    expect(checkpoint.length).toBeGreaterThan(0)
    const resumed = await runPpo(options, { stateDir: broken.stateDir, dir: broken.dir, resumed: broken.records })
    expect(Exit.isSuccess(resumed.exit)).toBe(true)
    expect(withoutTime(resumed.records)).toEqual(withoutTime(reference.records))
    expect(adapterBytes(resumed.dir).equals(adapterBytes(reference.dir))).toBe(true)
  })
})
