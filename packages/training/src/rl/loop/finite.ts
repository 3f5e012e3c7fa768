/**
 * Guards of RL trainers: rewards must be finite before anything is learned from
 * them, so a broken reward stops the run with the last good checkpoint intact.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { checkFiniteRewards } from "@refine-af/training"
 * Effect.runSync(checkFiniteRewards("ppo", 3, [0.5, 1]))
 * ```
 */
import { Effect } from "effect"
import { StageError } from "@refine-af/core"

/** Fails naming the first rollout whose reward is NaN or ±∞. */
export const checkFiniteRewards = (stage: string, step: number, rewards: ReadonlyArray<number>, promptOf?: (i: number) => string): Effect.Effect<void, StageError> => {
  const bad = rewards.findIndex((r) => !Number.isFinite(r))
  if (bad < 0) return Effect.void
  return Effect.fail(
    new StageError({
      stage,
      message: `step ${step}: the reward of rollout ${bad}${promptOf ? ` (prompt ${JSON.stringify(promptOf(bad).slice(0, 80))})` : ""} is ${rewards[bad]}; nothing was learned from this step and the last checkpoint is kept`,
      fix: "fix the reward / scorer (it must return finite numbers), then `refine-af resume <run>` continues from the last checkpoint"
    })
  )
}
