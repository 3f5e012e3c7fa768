/**
 * Runs a stage component against a context the way the core runner does
 * (`executeStage`, packages/core/src/run/stage-exec.ts):
 * - `ctx.options` are written as in a recipe and decoded with the stage's
 *   options Schema (defaults filled in, unknown keys and wrong types refused as
 *   `validate` refuses them), then path options (`RecipePath`) are resolved from
 *   `ctx.recipeDir` (else the cwd). Options decoded beforehand still work where
 *   decoding them again gives the same value (structs of plain values and defaults);
 * - records reaching a typed input port are checked against its Schema;
 * - the stage runs in its own scope, and its writer is checkpointed when it
 *   ends, so records it appended but did not checkpoint are committed. On
 *   success a failed final checkpoint fails the stage; on failure the
 *   checkpoint is still attempted (the runner closes the writer either way),
 *   except that a `memoryWriter` killed by `crashAfter` commits nothing more.
 *
 * @example
 * ```ts
 * import { memoryStageContext, runStage } from "@refine-af/testing"
 * // const summary = await runStage(myStage, memoryStageContext({ options, uses }).ctx)
 * ```
 */
import { Cause, Effect, Exit, Result, Schema } from "effect"
import { resolvePathOptions, StageError, type RecordStreamError, type StageComponent, type StageContext, type StageSummary } from "@refine-af/core"
import { checkedInputs } from "./checked-inputs.ts"

export type StageExit = Exit.Exit<StageSummary | void, StageError | RecordStreamError>

/**
 * Options as a recipe may write them for a stage whose decoded options are `O`:
 * any key may be left out (a Schema default may fill it; a required one left
 * out fails at run time, naming it), at every level.
 */
export type OptionsInput<O> = O extends string | number | boolean | bigint | null | undefined ? O
  : O extends ReadonlyArray<infer E> ? ReadonlyArray<OptionsInput<E>>
  : O extends object ? { readonly [K in keyof O]?: OptionsInput<O[K]> }
  : O

/**
 * Decodes a component's options as `validate` does (every issue, unknown keys refused), then
 * resolves its path options from `recipeDir` (else the cwd); a failure is a `StageError` naming `name`.
 */
export const decodeComponentOptions = <O>(schema: StageComponent<O, any>["options"], options: unknown, name: string, recipeDir: string | undefined) =>
  Effect.suspend(() => {
    const result = Schema.decodeUnknownResult(schema)(options, { errors: "all", onExcessProperty: "error" })
    if (Result.isSuccess(result)) return Effect.succeed(resolvePathOptions(schema, result.success, recipeDir ?? process.cwd()))
    return Effect.fail(new StageError({
      stage: name,
      message: `its options do not decode with the component's options Schema: ${String(result.failure).replace(/\s+/g, " ")}`,
      fix: "write the options as a recipe would (defaults may be left out; `refine-af plugins` lists them)"
    }))
  })

const decodeOptions = <O>(stage: StageComponent<O, any>, ctx: StageContext<unknown, unknown>) => decodeComponentOptions(stage.options, ctx.options, ctx.name, ctx.recipeDir)

const runInContext = <O>(stage: StageComponent<O, any>, ctx: StageContext<unknown, unknown>) =>
  Effect.gen(function*() {
    const options = yield* decodeOptions(stage, ctx)
    const summary = yield* Effect.scoped(Effect.gen(function*() {
      const ports = yield* checkedInputs(ctx.name, stage.inputs, ctx.inputs, ctx.inputLists ?? {})
      return yield* stage.run({ ...ctx, ...ports, options } as never)
    }))
    // A failed final checkpoint must fail the stage, never pass partial output as complete.
    yield* ctx.output.checkpoint()
    return summary
  }).pipe(Effect.ensuring(Effect.ignore(ctx.output.checkpoint())))

/** Runs the stage and returns its exit (success, typed failure or defect). */
export const runStageExit = <O, U>(stage: StageComponent<O, any>, ctx: StageContext<NoInfer<OptionsInput<O>>, U>): Promise<StageExit> =>
  Effect.runPromiseExit(runInContext(stage, ctx as StageContext<unknown, unknown>))

/** Runs the stage and throws with the pretty-printed cause when it fails. */
export const runStage = async <O, U>(stage: StageComponent<O, any>, ctx: StageContext<NoInfer<OptionsInput<O>>, U>) => {
  const exit = await runStageExit(stage, ctx)
  if (Exit.isFailure(exit)) throw new Error(`stage failed: ${Cause.pretty(exit.cause)}`)
  return exit.value
}
