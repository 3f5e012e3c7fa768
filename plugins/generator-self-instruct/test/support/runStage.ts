import { Effect, Exit } from "effect"
import type { RecordStreamError, StageComponent, StageContext, StageError, StageSummary } from "@refine-af/core"

/** Runs a stage component to completion in a scope and returns its exit. */
export const runStage = <O, U>(
  stage: StageComponent<O, any>,
  ctx: StageContext<O, U>
): Promise<Exit.Exit<StageSummary | void, StageError | RecordStreamError>> =>
  Effect.runPromiseExit(Effect.scoped(stage.run(ctx as never)))

/** Runs a stage and fails the test on a stage error. */
export const runStageOk = async <O, U>(stage: StageComponent<O, any>, ctx: StageContext<O, U>) => {
  const exit = await runStage(stage, ctx)
  if (Exit.isFailure(exit)) throw new Error(`stage failed: ${String(exit.cause)}`)
  return exit.value
}
