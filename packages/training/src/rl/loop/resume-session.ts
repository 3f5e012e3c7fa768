/**
 * Opens an RL trainer's session from its state folder, unless the checkpoint there is ahead of
 * the iteration records the stage has committed. A trainer commits records before it writes a
 * checkpoint, so that only happens when the run folder was changed by hand (a deleted commit
 * marker): resuming from the checkpoint would then never write the iterations in between, and
 * the stage would finish with records missing. Starting over recomputes the same iterations
 * (the trainers are deterministic) and writes those that are not committed.
 *
 * @example
 * ```ts
 * import { openResumableSession } from "@refine-af/training"
 * // const session = yield* openResumableSession(policy, options, ctx, (state) => decodeState(state)?.step ?? 0)
 * ```
 */
import { Effect, type Scope } from "effect"
import type { EventSink, Json } from "@refine-af/core"
import type { PolicyError } from "../../errors.ts"
import type { PolicyModelService, SessionOptions } from "../../policy-model.ts"
import type { PolicySession } from "../../policy-session.ts"

/** What the helper reads of the stage's context. */
export interface ResumeContext {
  readonly name: string
  readonly stateDir: string
  readonly output: { readonly resumedCount: number }
  readonly events: EventSink
}

/** The session, from the checkpoint when it is not ahead of the committed records, else fresh (with a warning). */
export const openResumableSession = (
  policy: PolicyModelService,
  options: Omit<SessionOptions, "resumeFrom">,
  ctx: ResumeContext,
  stepOf: (trainerState: Json | undefined) => number
): Effect.Effect<PolicySession, PolicyError, Scope.Scope> =>
  Effect.gen(function* () {
    const resumed = yield* policy.session({ ...options, resumeFrom: ctx.stateDir })
    const step = resumed.restored === undefined ? 0 : stepOf(resumed.restored.trainerState)
    if (step <= ctx.output.resumedCount) return resumed
    yield* ctx.events.warn(
      `${ctx.name}: the checkpoint in ${ctx.stateDir} is at iteration ${step}, but only ${ctx.output.resumedCount} iteration records are committed ` +
        "(was the stage's folder changed by hand?): starting over from iteration 0, which recomputes the same iterations and writes the missing ones"
    )
    return yield* policy.session(options)
  })
