/**
 * `self-instruct/rl-prompts` — turns instruction records into the prompts an RL
 * trainer samples instances from: exactly the prompt `self-instruct/instances`
 * would send for the record (input-first, or output-first for classification;
 * same templates, same stop strings), with the fields the instance reward needs
 * to read the completion back.
 *
 * Output record: `{ prompt, stop, instruction, is_classification, template,
 * instruction_id, task_index }`. With the `instructions` port left unconnected
 * the prompts are built from seed tasks (`seeds`: a JSONL path, a pinned URL,
 * or the bundled set) — RL on the seed instructions alone.
 *
 * @example
 * ```yaml
 * rl_prompts: { _component_: self-instruct/rl-prompts, instructions: classified, maxInstances: 1 }
 * ```
 */
import { Effect, Schema } from "effect"
import { defineStage, RecipePath, StageError, type JsonRecord } from "@refine-af/core"
import { loadSeedTasks, SeedSource } from "../seeds/SeedSource.ts"
import { toStageError } from "../errors.ts"
import { positiveInt, withDefault } from "../options.ts"
import { instancePrompt, loadInstanceTemplates } from "../instances/prompt.ts"

/** Options of `self-instruct/rl-prompts`: the prompt-shaping options of `self-instruct/instances`. */
export const RlPromptsOptions = Schema.Struct({
  /** Pairs the prompt asks for: input-first prompts stop at "Example <maxInstances + 1>". RL usually trains on one pair. */
  maxInstances: positiveInt.annotate({ description: "Pairs the prompt asks for: input-first prompts stop at \"Example <maxInstances + 1>\". RL usually trains on one pair." }).pipe(withDefault(1)),
  /** Template files replacing the bundled ones (as in `self-instruct/instances`). */
  templates: Schema.Struct({
    inputFirst: Schema.optionalKey(RecipePath("file", "template file for ordinary tasks (input first), holding `{instruction}` once")),
    outputFirst: Schema.optionalKey(RecipePath("file", "template file for classification tasks (output first), holding `{instruction}` once"))
  }).annotate({ description: "Template files replacing the bundled ones; each holds `{instruction}` once." }).pipe(withDefault({})),
  /** Stop strings before the input-first "Example N" one (the instances stage's default). */
  stop: Schema.Array(Schema.String).annotate({ description: "Stop strings before the input-first \"Example N\" one (the instances stage's default)." }).pipe(withDefault(["Task:"])),
  /** Seed tasks used when `instructions` is not connected (default: the bundled set). */
  seeds: Schema.optionalKey(SeedSource).annotate({ description: "Seed tasks used when `instructions` is not connected (default: the bundled set)." })
})
export type RlPromptsOptions = typeof RlPromptsOptions.Type

/** The RL-prompts stage component. */
export const rlPromptsStage = defineStage({
  role: "transform",
  description:
    "Instruction records → instance-generation prompts for RL (input-first / output-first exactly as self-instruct/instances builds them), with stop strings and the fields self-instruct/instance-reward reads.",
  deterministic: true,
  options: RlPromptsOptions,
  inputs: { instructions: { description: "instruction records with is_classification (e.g. from self-instruct/classify); unconnected: the seed tasks", optional: true } },
  run: (ctx) =>
    Effect.gen(function* () {
      const upstream = ctx.inputs["instructions"]
      const seeds = ctx.options.seeds
      const templates = yield* loadInstanceTemplates(ctx.options.templates, (path) => path)
      const tasks: ReadonlyArray<JsonRecord> =
        upstream !== undefined
          ? yield* upstream.readAll()
          : (yield* loadSeedTasks(seeds, undefined)).map((t) => ({ id: t.id, instruction: t.instruction, is_classification: t.is_classification }))
      const rows: Array<JsonRecord> = []
      for (let index = ctx.output.resumedCount; index < tasks.length; index++) {
        const record = tasks[index]!
        const built = yield* instancePrompt(record, index, templates, ctx.options)
        rows.push({
          prompt: built.prompt,
          stop: built.stop,
          instruction: built.instruction,
          is_classification: built.isClassification,
          template: built.template.id,
          instruction_id: typeof record["id"] === "string" ? record["id"] : null,
          task_index: index
        })
      }
      yield* ctx.output.append(rows)
      const classification = tasks.filter((t) => t["is_classification"] === true).length
      return { metrics: { prompts: tasks.length, output_first: classification, input_first: tasks.length - classification } }
    }).pipe(Effect.mapError((error) => (error instanceof StageError ? error : toStageError(ctx.name)(error))))
})
