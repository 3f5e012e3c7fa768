/**
 * `self-instruct/instances` — writes (input, output) pairs for every upstream
 * instruction: input-first prompts for ordinary tasks, output-first (label
 * first) for classification tasks; parses, filters, and emits Alpaca-style
 * records `{ instruction, input, output }` with per-row `lineage`.
 *
 * Resume is at task level: the task of the last durable record is replayed
 * (request seeds depend only on the stage seed and the task index) and its
 * durable rows skipped.
 *
 * @example
 * ```yaml
 * dataset: { _component_: self-instruct/instances, instructions: classified, model: policy }
 * ```
 */
import { Effect } from "effect"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { defineStage, evenlySpaced, LanguageModel, StageError, type JsonRecord, type SamplingParams, type StageContext } from "@refine-af/core"
import { toStageError } from "../errors.ts"
import { requestParams } from "../options.ts"
import { requestSeed } from "../random.ts"
import { resumePoint } from "../resume.ts"
import { stringsOf } from "../upstream.ts"
import { filterInstances, instanceRejections, type InstanceRejection } from "./filters.ts"
import { InstancesOptions } from "./options.ts"

/** The file in an instances stage's folder holding its filter totals (`counts` of the stage's metrics). */
export const filterCountsFile = "filter-counts.json"
import { readCompletion } from "./completion.ts"
import { instancePrompt, loadInstanceTemplates } from "./prompt.ts"

type InstancesContext = StageContext<InstancesOptions, { readonly model: LanguageModel["Service"] }>

type Counts = Record<"tasks" | "parsed" | "unparsable" | "kept" | "length_cut_responses" | "empty_tasks" | InstanceRejection, number>

/** The batch state committed with the last durable records, if it covers every one of them. */
const savedBatch = (state: unknown, lastDurableTask: number): { next: number; counts: Record<string, number> } | undefined => {
  if (typeof state !== "object" || state === null || Array.isArray(state)) return undefined
  const { next, counts } = state as Record<string, unknown>
  if (typeof next !== "number" || next <= lastDurableTask || typeof counts !== "object" || counts === null) return undefined
  return { next, counts: counts as Record<string, number> }
}

/** Kept instances shown in the run report. */
const reportSamples = 4

const run = (ctx: InstancesContext) =>
  Effect.gen(function* () {
    const { options, output, events } = ctx
    const model = ctx.uses.model
    const upstream = ctx.inputs["instructions"]
    if (upstream === undefined) {
      return yield* new StageError({ stage: ctx.name, message: "the input port `instructions` is not connected", fix: "add `instructions: <stage name>` to this stage in the recipe" })
    }
    const templates = yield* loadInstanceTemplates(options.templates, (path) => path)
    const tasks = yield* upstream.readAll()
    const durable = yield* output.resumed()
    const start = resumePoint(durable, (record) => Number((record["lineage"] as JsonRecord | undefined)?.["task_index"]))
    const counts = Object.fromEntries(
      ["tasks", "parsed", "unparsable", "kept", "length_cut_responses", "empty_tasks", ...instanceRejections].map((key) => [key, 0])
    ) as Counts
    // The state committed with the last durable batch covers every durable record: continue after it with its counters.
    const saved = savedBatch(output.resumedState, start.unit)
    if (saved) Object.assign(counts, saved.counts)
    let replaySkip = saved ? 0 : start.durableInUnit
    const appended: Array<JsonRecord> = []

    for (let first = saved ? saved.next : start.unit; first < tasks.length; first += options.batchSize) {
      const batch = tasks.slice(first, first + options.batchSize)
      const prepared = yield* Effect.forEach(batch, (record, offset) =>
        Effect.map(instancePrompt(record, first + offset, templates, { maxInstances: options.maxInstances, stop: options.sampling.stop }), (built) => {
          const params: SamplingParams = { ...requestParams(options.sampling, requestSeed(ctx.seed, first + offset)), stop: built.stop }
          return { ...built, record, params }
        })
      )
      const generations = yield* model.generate(prepared.map(({ prompt, params }) => ({ prompt, params })))
      const rows: Array<JsonRecord> = []
      prepared.forEach((task, offset) => {
        const taskIndex = first + offset
        const generation = generations[offset]
        counts.tasks++
        // A length-cut response may end mid-pair; its complete pairs are still usable, the torn last one is dropped.
        const cut = generation?.finishReason === "length"
        if (cut) counts.length_cut_responses++
        const parsed = readCompletion(task.isClassification, generation?.text ?? "", cut)
        const candidates = parsed.instances
        counts.parsed += candidates.length
        counts.unparsable += parsed.unparsable
        const verdict = filterInstances(candidates, {
          maxInstances: options.maxInstances,
          maxInputWords: options.maxInputWords,
          maxOutputWords: options.maxOutputWords
        })
        for (const reason of instanceRejections) counts[reason] += verdict.rejected[reason]
        counts.kept += verdict.kept.length
        if (verdict.kept.length === 0) counts.empty_tasks++
        const filterDecisions: JsonRecord = { parsed: candidates.length, unparsable: parsed.unparsable, kept: verdict.kept.length, rejected: { ...verdict.rejected } }
        verdict.kept.forEach((instance, instanceIndex) => {
          rows.push({
            instruction: task.instruction,
            input: instance.input,
            output: instance.output,
            is_classification: task.isClassification,
            lineage: {
              task_index: taskIndex,
              instance_index: instanceIndex,
              instruction_id: typeof task.record["id"] === "string" ? task.record["id"] : null,
              seed_ids: stringsOf(task.record, "prompt_seed_ids"),
              template: task.template.id,
              model: model.info.id,
              sampling: { ...task.params, stop: [...(task.params.stop ?? [])] },
              filters: filterDecisions
            }
          })
        })
      })
      const fresh = replaySkip > 0 ? rows.slice(replaySkip) : rows
      replaySkip = 0
      // Committed even for a batch without records: its tasks and rejections count too.
      yield* output.append(fresh, { state: { next: first + batch.length, counts: { ...counts } } })
      appended.push(...fresh)
      yield* output.checkpoint()
      yield* events.progress(Math.min(first + batch.length, tasks.length), tasks.length)
      yield* events.emit("filter_counts", { ...counts })
    }
    // The stage's own totals beside its records, for the dataset card (export-hf): a task that kept no
    // rows leaves no lineage behind, so summing the rows' decisions would miss its rejections.
    yield* Effect.tryPromise({
      try: () => writeFile(join(ctx.dir, filterCountsFile), `${JSON.stringify(counts, null, 1)}\n`),
      catch: (error) => new StageError({ stage: ctx.name, message: `cannot write ${filterCountsFile}: ${(error as Error).message}`, fix: "check that the run folder is writable and the disk has space" })
    })
    // For the run report: a few kept instances, spread over the whole dataset (earlier attempts' records included).
    const samples = evenlySpaced([...durable, ...appended], reportSamples).map((row) => ({ group: "kept instances", instruction: row["instruction"] ?? null, input: row["input"] ?? null, output: row["output"] ?? null }))
    return { metrics: { ...counts }, data: { report: { samples } } }
  }).pipe(Effect.mapError((error) => (error instanceof StageError ? error : toStageError(ctx.name)(error))))

/** The instance-generation stage component. */
export const instancesStage = defineStage({
  role: "generator",
  description:
    "Generates (input, output) instances per instruction — input-first for ordinary tasks, output-first for classification — filters them and writes Alpaca-style records with lineage.",
  deterministic: true,
  options: InstancesOptions,
  inputs: { instructions: { description: "instruction records with is_classification (e.g. from self-instruct/classify)" } },
  uses: { model: LanguageModel },
  run
})
