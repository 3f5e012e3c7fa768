/**
 * Generates and scores predictions for every (task, instance) in a fixed
 * order, in batches through the `LanguageModel` service, appending each batch's
 * records as soon as it is scored. Resumable: the first `skip` instances are
 * assumed already written (the stage passes `RecordWriter.resumedCount`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { predictAndScore } from "@refine-af/eval-superni"
 * declare const run: Parameters<typeof predictAndScore>[0]
 * const records = predictAndScore(run) // Effect of the newly written records
 * ```
 */
import { Effect } from "effect"
import { pythonStrip } from "@refine-af/text"
import { LanguageModelError, type JsonRecord, type LanguageModelService, type RecordStreamError } from "@refine-af/core"
import type { SuperNiInstance, SuperNiTask } from "../data/task.ts"
import { scoreInstance } from "../metrics/instance.ts"
import { predictionToJson, type PredictionRecord, type PromptFit } from "../metrics/prediction.ts"
import { fitPrompt, type FittedPrompt } from "../prompt/fitPrompt.ts"
import type { PromptEncoder } from "../prompt/template.ts"

/** Decoding limits: greedy, bounded length, cut at the first stop string. */
export interface DecodingOptions {
  readonly maxNewTokens: number
  readonly stop: ReadonlyArray<string>
}

/** One generation + scoring pass over a task list. */
export interface PredictRun {
  readonly tasks: ReadonlyArray<SuperNiTask>
  readonly encode: PromptEncoder
  readonly model: LanguageModelService
  readonly decoding: DecodingOptions
  readonly batchSize: number
  /** Demonstrations per prompt (as configured in the encoder). */
  readonly examples: number
  /** Most prompt tokens (context length minus the output budget); prompts are shortened to fit. Absent: no check. */
  readonly promptBudget?: number
  /** Instances already durable from an interrupted attempt. */
  readonly skip: number
  readonly append: (records: ReadonlyArray<JsonRecord>) => Effect.Effect<void, RecordStreamError>
  readonly progress?: (done: number, total: number) => Effect.Effect<void>
}

/** The flat evaluation order: tasks in order, instances in file order. */
export const evaluationOrder = (tasks: ReadonlyArray<SuperNiTask>) =>
  tasks.flatMap((task) => task.instances.map((instance) => ({ task, instance })))

/**
 * Cuts the generation at the first stop string and strips it as Python's `str.strip()` does
 * (the official scorer sees the raw text: a leading byte-order mark stays, as it would there).
 * Providers already honour `stop`, but a provider that ignores it must not change the scores.
 */
export const cleanPrediction = (text: string, stop: ReadonlyArray<string>): string => {
  let end = text.length
  for (const marker of stop) {
    if (marker === "") continue
    const at = text.indexOf(marker)
    if (at >= 0 && at < end) end = at
  }
  return pythonStrip(text.slice(0, end))
}

const fitNote = (fitted: FittedPrompt, wanted: number): PromptFit | undefined =>
  !fitted.fits ? "over-budget" : fitted.inputTruncated ? "truncated-input" : fitted.examples < wanted ? "dropped-examples" : undefined

const toRecord = (
  task: SuperNiTask,
  instance: SuperNiInstance,
  prediction: string,
  finishReason: string,
  fit: PromptFit | undefined
): PredictionRecord => ({
  task: task.name,
  category: task.category,
  id: instance.id,
  prediction,
  references: instance.output,
  ...scoreInstance(prediction, instance.output),
  finishReason,
  ...(fit === undefined ? {} : { fit })
})

/** Runs generation + scoring for the instances after `skip`; returns the new records. */
export const predictAndScore = (
  run: PredictRun
): Effect.Effect<ReadonlyArray<PredictionRecord>, LanguageModelError | RecordStreamError> =>
  Effect.gen(function*() {
    const order = evaluationOrder(run.tasks)
    const produced: Array<PredictionRecord> = []
    for (let start = run.skip; start < order.length; start += run.batchSize) {
      const batch = order.slice(start, start + run.batchSize)
      const prompts = yield* Effect.forEach(batch, ({ instance, task }) =>
        run.promptBudget === undefined
          ? Effect.succeed({ prompt: run.encode(task, instance), examples: run.examples, inputTruncated: false, fits: true })
          : fitPrompt({ encode: run.encode, task, instance, examples: run.examples, budget: run.promptBudget, countTokens: run.model.countTokens }))
      const generations = yield* run.model.generate(
        prompts.map(({ prompt }) => ({
          prompt,
          params: { maxNewTokens: run.decoding.maxNewTokens, temperature: 0, stop: run.decoding.stop }
        }))
      )
      if (generations.length !== batch.length) {
        return yield* new LanguageModelError({
          reason: "Internal",
          message: `model "${run.model.info.id}" returned ${generations.length} generations for ${batch.length} requests`,
          fix: "The LanguageModel provider must return one generation per request, in order; report this provider bug."
        })
      }
      const records = batch.map(({ instance, task }, index) => {
        const generation = generations[index]!
        const fit = fitNote(prompts[index]!, run.examples)
        return toRecord(task, instance, cleanPrediction(generation.text, run.decoding.stop), generation.finishReason, fit)
      })
      yield* run.append(records.map(predictionToJson))
      produced.push(...records)
      if (run.progress !== undefined) yield* run.progress(start + batch.length, order.length)
    }
    return produced
  })
