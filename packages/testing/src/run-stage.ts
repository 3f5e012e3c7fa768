/**
 * Runs a stage component against a context, in its own scope (a stage's
 * `run` needs a `Scope` for the resources it acquires). Path options
 * (`RecipePath`) are resolved from `ctx.recipeDir` (else the cwd) first, as
 * the core's runner does.
 *
 * @example
 * ```ts
 * import { memoryStageContext, runStage } from "@refine-af/testing"
 * // const summary = await runStage(myStage, memoryStageContext({ options, uses }).ctx)
 * ```
 */
import { Cause, Effect, Exit } from "effect"
import { resolvePathOptions, type RecordStreamError, type StageComponent, type StageContext, type StageError, type StageSummary } from "@refine-af/core"

export type StageExit = Exit.Exit<StageSummary | void, StageError | RecordStreamError>

/** Runs the stage and returns its exit (success, typed failure or defect). */
export const runStageExit = <O, U>(stage: StageComponent<O, any>, ctx: StageContext<O, U>): Promise<StageExit> =>
  Effect.runPromiseExit(Effect.scoped(stage.run({ ...ctx, options: resolvePathOptions(stage.options, ctx.options, ctx.recipeDir ?? process.cwd()) } as never)))

/** Runs the stage and throws with the pretty-printed cause when it fails. */
export const runStage = async <O, U>(stage: StageComponent<O, any>, ctx: StageContext<O, U>) => {
  const exit = await runStageExit(stage, ctx)
  if (Exit.isFailure(exit)) throw new Error(`stage failed: ${Cause.pretty(exit.cause)}`)
  return exit.value
}
