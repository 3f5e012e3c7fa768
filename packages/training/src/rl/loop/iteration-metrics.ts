/**
 * One RL iteration's metrics (shared by ppo/train, grpo/train and rloo/train), as a record (the stage's output stream, one per
 * iteration) and as events. Times are under `time` (seconds): they differ
 * between runs; every other field is reproducible with a fixed seed.
 */
import { Effect } from "effect"
import type { EventSink, JsonRecord, RolloutReward } from "@refine-af/core"
import type { StepResult } from "../../policy-session.ts"
import { mean, std } from "../stats.ts"

export interface Timings {
  readonly sample: number
  readonly reward: number
  readonly evaluate: number
  readonly train: number
}

/** Mean of each named part over the rollouts that report it. */
export const meanParts = (rewards: ReadonlyArray<RolloutReward>): Record<string, number> => {
  const sums = new Map<string, { total: number; n: number }>()
  for (const r of rewards) for (const [k, v] of Object.entries(r.parts ?? {})) {
    const s = sums.get(k) ?? { total: 0, n: 0 }
    sums.set(k, { total: s.total + v, n: s.n + 1 })
  }
  return Object.fromEntries([...sums].map(([k, s]) => [k, s.total / s.n]))
}

/** Mean over updates of each metric the objective reported. */
export const meanStepMetrics = (steps: ReadonlyArray<StepResult>): Record<string, number> => {
  const out: Record<string, number> = { loss: mean(steps.map((s) => s.loss)), grad_norm: mean(steps.map((s) => s.gradNorm)) }
  for (const key of Object.keys(steps[0]?.metrics ?? {})) out[key] = mean(steps.map((s) => s.metrics[key]!))
  return out
}

/** The iteration record. */
export const iterationRecord = (fields: {
  readonly step: number
  readonly raw: ReadonlyArray<number>
  readonly scores: ReadonlyArray<number>
  readonly rewards: ReadonlyArray<RolloutReward>
  readonly scalars: Readonly<Record<string, number>>
  readonly time: Timings
}): JsonRecord => ({
  step: fields.step,
  reward_mean: mean(fields.raw),
  reward_std: std(fields.raw, false),
  score_mean: mean(fields.scores),
  ...Object.fromEntries(Object.entries(fields.scalars).map(([k, v]) => [k, Number.isFinite(v) ? v : null])),
  reward_parts: meanParts(fields.rewards),
  time: { sample_s: fields.time.sample, reward_s: fields.time.reward, evaluate_s: fields.time.evaluate, train_s: fields.time.train }
})

/** Emits every numeric field of the record (and its times) as `metric` events at `step`. */
export const emitMetrics = (events: EventSink, record: JsonRecord, step: number) =>
  Effect.forEach(
    Object.entries(record).flatMap(([k, v]) =>
      typeof v === "number" && k !== "step" ? [[k, v] as const] : k === "time" && v !== null && typeof v === "object" ? Object.entries(v).map(([t, s]) => [`time/${t}`, Number(s)] as const) : []
    ),
    ([name, value]) => events.metric(name, value, step),
    { discard: true }
  )
