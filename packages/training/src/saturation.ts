/**
 * A trainer whose updates have an exactly-zero gradient while the loss is not zero has stopped
 * learning for good: the model saturated (a learning rate far too high drives LoRA weights to
 * ~1e10, every prediction becomes uniform, the loss sits at ln of the vocabulary size) and every
 * later update is a no-op that still reports success. A healthy model never gives exactly 0 with a
 * positive loss; updates whose loss is 0 (PPO's skipped ratios, GRPO groups with equal rewards)
 * are no sign of it. `saturationWatch` warns once, naming the learning rate.
 *
 * @example
 * ```ts
 * import { saturationWatch } from "@refine-af/training"
 * // const watch = saturationWatch(ctx.name, ctx.events, policy.info.vocabSize)
 * // yield* watch(result, lr)   // after every update
 * ```
 */
import { Effect } from "effect"
import type { EventSink } from "@refine-af/core"

/** Consecutive zero-gradient updates with a non-zero loss before the warning. */
export const SATURATED_UPDATES = 2

/** A check to run after every update; it warns (once) when the model has saturated. */
export const saturationWatch = (stage: string, events: EventSink, vocabSize?: number) => {
  let streak = 0
  let warned = false
  return (update: { readonly loss: number; readonly gradNorm: number }, lr: number): Effect.Effect<void> => {
    streak = update.gradNorm === 0 && update.loss !== 0 && lr > 0 ? streak + 1 : 0
    if (warned || streak < SATURATED_UPDATES) return Effect.void
    warned = true
    const uniform = vocabSize === undefined ? "" : ` (ln of the vocabulary size, uniform predictions, is ${Math.log(vocabSize).toFixed(4)})`
    return events.warn(
      `${stage}: the gradient has been exactly 0 for ${streak} updates while the loss is ${update.loss}${uniform}: the model has saturated and will not learn any more, ` +
        `usually from a learning rate far too high (lr ${lr} now). Lower lr and run the stage again (its cached upstream stages are kept)`
    )
  }
}
