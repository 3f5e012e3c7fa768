/**
 * Learning-rate schedules with linear warmup, as Hugging Face's
 * `get_{cosine,linear,constant}_schedule_with_warmup` (step = scheduler steps
 * done before this update, 0-based): warmup lr·s/W, then cosine ½(1+cos πp) or
 * linear (1−p) decay to 0 over the remaining steps, p = (s−W)/(T−W). Shared by
 * `sft/lora` (a step per optimizer update), `ppo/train` (a step per iteration,
 * as TRL's classic `PPOTrainer` steps its scheduler) and `grpo/train` /
 * `rloo/train` (a step per optimizer update, as Hugging Face's `Trainer`).
 *
 * @example
 * ```ts
 * import { learningRate } from "@refine-af/training"
 * learningRate({ lr: 1e-3, warmupSteps: 10, schedule: "cosine" }, 5, 100) // 5e-4
 * ```
 */
export type LearningRateSchedule = "cosine" | "linear" | "constant"

export interface LearningRateOptions {
  /** The peak learning rate. */
  readonly lr: number
  /** Scheduler steps of linear warmup from 0. */
  readonly warmupSteps: number
  readonly schedule: LearningRateSchedule
}

/** The learning rate of scheduler step `step` (0-based) of `total`. */
export const learningRate = (o: LearningRateOptions, step: number, total: number): number => {
  if (step < o.warmupSteps) return (o.lr * step) / Math.max(1, o.warmupSteps)
  if (o.schedule === "constant") return o.lr
  const progress = (step - o.warmupSteps) / Math.max(1, total - o.warmupSteps)
  return o.schedule === "cosine" ? o.lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress))) : o.lr * Math.max(0, 1 - progress)
}
