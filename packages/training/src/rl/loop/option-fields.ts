/**
 * Schema pieces the RL trainers' options share: number refinements, optional
 * keys with defaults, and the learning-rate schedule fields.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { withDefault } from "@refine-af/core"
 * import { scheduleFields } from "@refine-af/training"
 * const positiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
 * const Options = Schema.Struct({ steps: positiveInt.pipe(withDefault(100)), ...scheduleFields("constant", "TRL classic PPO: no scheduler", "iterations") })
 * ```
 */
import { Schema } from "effect"
import { withDefault } from "@refine-af/core"
import type { LearningRateSchedule } from "../../schedule.ts"

export const positiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
export const nonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
export const positive = Schema.Finite.check(Schema.isGreaterThan(0))
export const nonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
export const unit = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
/** Optional in the recipe, `value` when absent (core's, re-exported for the RL plugins). */
export { withDefault }

/**
 * `schedule` and `warmupSteps`: the learning rate's warmup and decay
 * ({@link learningRate}), counted in `unit` (iterations or optimizer updates),
 * with `schedule` defaulting to `fallback` (`source` says whose default it is).
 */
export const scheduleFields = (fallback: LearningRateSchedule, source: string, unit: "iterations" | "optimizer updates") => ({
  schedule: Schema.Literals(["constant", "linear", "cosine"])
    .annotate({ description: `Learning-rate decay after warmup, over the run's ${unit}: constant, linear or cosine to 0 (Hugging Face's schedules; ${source}).` })
    .pipe(withDefault(fallback)),
  warmupSteps: nonNegativeInt
    .annotate({ description: `Linear warmup from 0 to lr over this many ${unit} (Hugging Face semantics: the first one runs at 0 when warmupSteps > 0). Default 0.` })
    .pipe(withDefault(0))
})
