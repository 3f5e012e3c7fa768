/**
 * `self-instruct/classify` — marks each upstream instruction as a
 * classification task or not (few-shot Yes/No prompt), passing every other
 * field through. One output record per input record, so resume simply starts
 * at input number `output.resumedCount`.
 *
 * Each output record gains `is_classification` (`true`, `false`, or `null`
 * when unknown) and `classification: { source, answer?, prompt }`.
 *
 * @example
 * ```yaml
 * classified: { _component_: self-instruct/classify, instructions: instructions, model: policy }
 * # the model slot is optional: with skip: true no model is needed
 * classified: { _component_: self-instruct/classify, instructions: instructions, skip: true }
 * ```
 */
import { Effect } from "effect"
import { defineStage, LanguageModel, optionalSlot, StageError, type JsonRecord, type StageContext } from "@refine-af/core"
import { toStageError } from "../errors.ts"
import { requestParams } from "../options.ts"
import { requestSeed } from "../random.ts"
import { classificationOf, instructionOf } from "../upstream.ts"
import { classificationHeuristic, parseYesNo } from "./decide.ts"
import { ClassifyOptions } from "./options.ts"
import { classifyPromptId, encodeClassifyPrompt } from "./prompt.ts"

type ClassifyContext = StageContext<ClassifyOptions, { readonly model: LanguageModel["Service"] | undefined }>

/** Adds one written record's decision (its source and answer) to `counts`. */
const countDecision = (counts: Record<"yes" | "no" | "unknown" | "upstream" | "heuristic", number>, record: JsonRecord) => {
  const source = (record["classification"] as JsonRecord | undefined)?.["source"]
  if (source === "upstream") counts.upstream++
  else if (source === "heuristic") counts.heuristic++
  const value = record["is_classification"]
  if (value === true) counts.yes++
  else if (value === false) counts.no++
  else counts.unknown++
}

const run = (ctx: ClassifyContext) =>
  Effect.gen(function* () {
    const { options, output, events } = ctx
    const model = ctx.uses.model
    if (model === undefined && !options.skip) {
      return yield* new StageError({
        stage: ctx.name,
        message: "no model to ask: the `model` slot is not connected and `skip` is false",
        fix: "add `model: <resource name>` to this stage in the recipe, or set `skip: true` to use the keyword heuristic"
      })
    }
    const upstream = ctx.inputs["instructions"]
    if (upstream === undefined) {
      return yield* new StageError({ stage: ctx.name, message: "the input port `instructions` is not connected", fix: "add `instructions: <stage name>` to this stage in the recipe" })
    }
    const inputs = yield* upstream.readAll()
    const counts = { yes: 0, no: 0, unknown: 0, upstream: 0, heuristic: 0 }
    // Resumed: the durable records carry every decision, so the counters cover the whole run.
    if (output.resumedCount > 0) for (const record of yield* output.resumed()) countDecision(counts, record)
    for (let start = output.resumedCount; start < inputs.length; start += options.batchSize) {
      const batch = inputs.slice(start, start + options.batchSize)
      const instructions = yield* Effect.forEach(batch, (record, offset) => instructionOf(record, start + offset))
      const decided: Array<{ value: boolean | null; classification: JsonRecord }> = batch.map((record, offset) => {
        const known = classificationOf(record)
        if (options.keepUpstream && known !== undefined) return { value: known, classification: { source: "upstream" } }
        if (options.skip) {
          return options.skipMode === "heuristic"
            ? { value: classificationHeuristic(instructions[offset]!), classification: { source: "heuristic" } }
            : { value: null, classification: { source: "unknown" } }
        }
        return { value: null, classification: { source: "model" } }
      })
      const askModel = decided.flatMap((decision, offset) => (decision.classification["source"] === "model" ? [offset] : []))
      if (askModel.length > 0 && model !== undefined) {
        const generations = yield* model.generate(
          askModel.map((offset) => ({
            prompt: encodeClassifyPrompt(instructions[offset]!),
            params: requestParams(options.sampling, requestSeed(ctx.seed, start + offset))
          }))
        )
        askModel.forEach((offset, index) => {
          const answer = generations[index]?.text ?? ""
          decided[offset] = {
            value: parseYesNo(answer) ?? null,
            classification: { source: "model", answer, prompt: classifyPromptId, model: model.info.id }
          }
        })
      }
      const records = batch.map((record, offset): JsonRecord => {
        const { value, classification } = decided[offset]!
        const written = { ...record, is_classification: value, classification }
        countDecision(counts, written)
        return written
      })
      yield* output.append(records)
      yield* output.checkpoint()
      yield* events.progress(start + batch.length, inputs.length)
    }
    yield* events.emit("classification_counts", counts)
    if (counts.unknown > 0 && !options.skip) {
      yield* events.warn(`${ctx.name}: ${counts.unknown} answers were neither Yes nor No; those tasks get is_classification = null (treated as non-classification downstream).`)
    }
    return { metrics: { ...counts } }
  }).pipe(Effect.mapError((error) => (error instanceof StageError ? error : toStageError(ctx.name)(error))))

/** The classification-identification stage component. */
export const classifyStage = defineStage({
  role: "transform",
  description: "Marks each instruction as a classification task or not with a few-shot Yes/No prompt (or a keyword heuristic with skip: true).",
  deterministic: true,
  options: ClassifyOptions,
  inputs: { instructions: { description: "instruction records (e.g. from self-instruct/bootstrap)" } },
  uses: { model: optionalSlot(LanguageModel) },
  run
})
