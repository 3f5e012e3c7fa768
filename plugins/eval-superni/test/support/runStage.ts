/** Runs a stage component against an in-memory context (the stage effect needs a Scope). */
import { Effect, Exit } from "effect"
import type { StageComponent } from "@refine-af/core"

export const runStage = <O, U extends Record<string, any>>(component: StageComponent<O, any>, ctx: any) =>
  Effect.runPromise(Effect.scoped(component.run(ctx)))

export const runStageExit = (component: StageComponent<any, any>, ctx: any) =>
  Effect.runPromise(Effect.exit(Effect.scoped(component.run(ctx)))).then((exit) => ({ exit, failed: Exit.isFailure(exit) }))
