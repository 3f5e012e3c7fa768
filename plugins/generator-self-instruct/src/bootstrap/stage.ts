/**
 * `self-instruct/bootstrap` — grows a pool of instructions from seed tasks the
 * way the Self-Instruct paper does (see `engine.ts` for one step), one
 * language-model call per step, checkpointing after every step.
 *
 * Resume: the pool is rebuilt from the durable records of earlier steps, the
 * step of the last durable record is replayed from the same seed and its
 * durable records skipped. If the model does not reproduce them (a provider
 * that ignores seeds), the durable records win and the run goes on from the
 * next step with a warning.
 *
 * @example
 * ```yaml
 * instructions:
 *   _component_: self-instruct/bootstrap
 *   model: policy
 *   target: 100
 * ```
 */
import { Effect } from "effect"
import { defineStage, LanguageModel, resolveRecipePath, StageError, type JsonRecord, type StageContext } from "@refine-af/core"
import { toStageError } from "../errors.ts"
import { resumePoint } from "../resume.ts"
import { loadSeedTasks } from "../seeds/SeedSource.ts"
import type { SeedTask } from "../seeds/SeedTask.ts"
import { BootstrapEngine } from "./engine.ts"
import { BootstrapOptions } from "./options.ts"
import { bootstrapReport } from "./report.ts"

type BootstrapContext = StageContext<BootstrapOptions, { readonly model: LanguageModel["Service"] }>

const sameInstructions = (replayed: ReadonlyArray<JsonRecord>, durable: ReadonlyArray<JsonRecord>): boolean =>
  replayed.length === durable.length &&
  replayed.every((record, index) => record["instruction"] === durable[index]?.["instruction"])

/** An engine holding the seeds and `durable` records; its pool workers stop when the stage's scope closes. */
const rebuiltEngine = (ctx: BootstrapContext, seeds: ReadonlyArray<SeedTask>, durable: ReadonlyArray<JsonRecord>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const engine = new BootstrapEngine(seeds, ctx.options, ctx.seed, ctx.uses.model.info.id)
      for (const record of durable) engine.restore(record)
      return engine
    }),
    (engine) => engine.close()
  )

/** Progress committed with the last durable step (`append`'s state), if it covers the resume point. */
const savedProgress = (state: unknown, resumeUnit: number): { step: number; idleSteps: number; counts: Record<string, number> } | undefined => {
  if (typeof state !== "object" || state === null || Array.isArray(state)) return undefined
  const { step, idleSteps, counts } = state as Record<string, unknown>
  if (typeof step !== "number" || step < resumeUnit - 1 || typeof idleSteps !== "number" || typeof counts !== "object" || counts === null) return undefined
  return { step, idleSteps, counts: counts as Record<string, number> }
}

const run = (ctx: BootstrapContext) =>
  Effect.gen(function* () {
    const { options, output, events } = ctx
    const model = ctx.uses.model
    // A seed file or cache folder written relative in the recipe is next to the recipe.
    const seeds = yield* loadSeedTasks(
      options.seeds,
      options.cacheDir === undefined ? undefined : resolveRecipePath(ctx, options.cacheDir)
    )
    const durable = yield* output.resumed()
    const start = resumePoint(durable, (record) => Number(record["step"]))
    // The state committed with the last durable step: continue after it with the whole run's counters.
    // It covers every durable record (continue after its step), or all but a half-written last step (replay that one).
    const saved = savedProgress(output.resumedState, start.unit)
    const after = saved !== undefined && saved.step >= start.unit
    let engine = yield* rebuiltEngine(ctx, seeds, after ? durable : durable.slice(0, start.durableBeforeUnit))
    if (saved) Object.assign(engine.counts, saved.counts)
    let replaySkip = after ? 0 : start.durableInUnit
    let idleSteps = saved?.idleSteps ?? 0
    let step = after ? saved.step + 1 : start.unit
    let stoppedIdle = false
    let stoppedAtMaxSteps = false
    while (!engine.done) {
      if (options.maxSteps !== undefined && step >= options.maxSteps) {
        stoppedAtMaxSteps = true
        yield* events.warn(
          `${ctx.name}: stopped after maxSteps=${options.maxSteps} steps (${engine.generated.length} of ${options.target} generated). Raise maxSteps to generate more.`
        )
        break
      }
      if (idleSteps >= options.maxIdleSteps) {
        stoppedIdle = true
        yield* events.warn(
          `${ctx.name}: stopped after ${options.maxIdleSteps} consecutive steps without a new instruction (${engine.generated.length} of ${options.target} generated). Check the model's output in the filter_counts events, or raise maxIdleSteps.`
        )
        break
      }
      const prompts = engine.prompts(step)
      const generations = yield* model.generate(prompts.map(({ prompt, params }) => ({ prompt, params })))
      if (generations.length !== prompts.length) {
        return yield* new StageError({
          stage: ctx.name,
          message: `the language model ${model.info.id} returned ${generations.length} generations for ${prompts.length} requests`,
          fix: "fix the LanguageModel provider: generate must return one result per request, in order"
        })
      }
      let records = yield* engine.absorb(step, prompts, generations)
      idleSteps = records.length === 0 ? idleSteps + 1 : 0
      if (replaySkip > 0) {
        const durableOfStep = durable.slice(start.durableBeforeUnit)
        if (sameInstructions(records.slice(0, replaySkip), durableOfStep)) {
          records = records.slice(replaySkip)
        } else {
          yield* events.warn(
            `${ctx.name}: replaying step ${step} after resume did not reproduce its ${replaySkip} durable instructions (does the model honour request seeds?); keeping the durable ones and continuing from step ${step + 1}.`
          )
          engine = yield* rebuiltEngine(ctx, seeds, durable)
          records = []
        }
        replaySkip = 0
      }
      const { counts } = engine
      // Committed even for a step without records: its candidates and rejections count too.
      yield* output.append(records, { state: { step, idleSteps, counts: { ...counts } } })
      yield* output.checkpoint()
      yield* events.progress(engine.generated.length, options.target, options.maxSteps === undefined ? undefined : { step: step + 1, steps: options.maxSteps })
      yield* events.metric("acceptance_rate", counts.candidates === 0 ? 0 : counts.accepted / counts.candidates, step)
      yield* events.emit("filter_counts", { step, ...counts })
      step++
    }
    const { counts } = engine
    return {
      metrics: {
        ...counts,
        generated: engine.generated.length,
        steps: step,
        acceptance_rate: counts.candidates === 0 ? 0 : counts.accepted / counts.candidates
      },
      data: {
        stopped_idle: stoppedIdle,
        stopped_at_max_steps: stoppedAtMaxSteps,
        resumed_records: durable.length,
        report: bootstrapReport(engine, { resumed: durable.length > 0 })
      }
    }
  }).pipe(Effect.mapError((error) => (error instanceof StageError ? error : toStageError(ctx.name)(error))))

/** The bootstrapping stage component. */
export const bootstrapStage = defineStage({
  role: "generator",
  description:
    "Self-Instruct instruction bootstrapping: prompts the model with 8 pool instructions (6 seeds + 2 generated), parses the numbered continuation and keeps instructions that pass the paper's filters (length, keywords, prefixes, first character, ROUGE-L < 0.7 to the pool).",
  deterministic: true,
  options: BootstrapOptions,
  uses: { model: LanguageModel },
  run
})
