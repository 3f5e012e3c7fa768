/**
 * `superni/evaluate`: generates a prediction for every evaluation instance
 * with the model in the `model` slot (greedy), scores it with the official
 * metrics, and writes the predictions as records plus `report.md`,
 * `report.html`, `metrics.json` and `tables.json` (for the run report) in the stage folder.
 *
 * Recipe node:
 * ```yaml
 * eval:
 *   _component_: superni/evaluate
 *   model: policy              # resource slot
 *   tasks: ./natural-instructions/tasks
 *   split: ./natural-instructions/splits/default/test_tasks.txt
 *   maxInstances: 100
 *   positiveExamples: 0        # 0 = definition only (Self-Instruct); 2 = Tk-Instruct
 * ```
 */
import { Effect, Schema } from "effect"
import { defineStage, LanguageModel, RecipePath, type JsonRecord } from "@refine-af/core"
import { evaluationOrder, predictAndScore } from "../generation/predict.ts"
import { aggregateScores } from "../metrics/aggregate.ts"
import { decodePredictionRecord, type PredictionRecord } from "../metrics/prediction.ts"
import { makePromptEncoder } from "../prompt/template.ts"
import { evaluationHtml, evaluationMarkdown } from "../report/evaluationReport.ts"
import { evaluationTables } from "../report/runReportTables.ts"
import { writeArtifacts } from "../report/writeArtifacts.ts"
import { ContextTooSmall, PredictionsMismatch } from "../errors.ts"
import { loadTasks } from "./loadTasks.ts"
import { bundledTaskSet, nonNegativeInt, positiveInt, withDefault } from "./options.ts"
import { generationDiagnostics } from "./diagnostics.ts"
import { toStageError } from "./stageError.ts"

/** Options of `superni/evaluate`. */
export const EvaluateOptions = Schema.Struct({
  /** A natural-instructions `tasks/` folder or a compact `.jsonl` set (relative to the recipe; `validate` checks it exists); defaults to the bundled set. */
  tasks: RecipePath("any", "natural-instructions tasks/ folder or compact .jsonl task set, relative to the recipe's folder").annotate({ description: "A natural-instructions `tasks/` folder or a compact `.jsonl` set (relative to the recipe; `validate` checks it exists); defaults to the bundled set." }).pipe(withDefault(bundledTaskSet)),
  /** Split file (one task name per line) for a task folder, e.g. `splits/default/test_tasks.txt`. */
  split: Schema.optionalKey(RecipePath("file", "split file (one task name per line), relative to the recipe's folder")).annotate({ description: "Split file (one task name per line) for a task folder, e.g. `splits/default/test_tasks.txt`." }),
  /** Evaluate only these tasks. */
  onlyTasks: Schema.optionalKey(Schema.Array(Schema.String)).annotate({ description: "Evaluate only these tasks." }),
  /** First N instances per task (the benchmark uses 100). */
  maxInstances: positiveInt.annotate({ description: "First N instances per task (the benchmark uses 100)." }).pipe(withDefault(100)),
  /** Positive examples in the prompt: 0 = definition only (Self-Instruct's setting), 2 = Tk-Instruct's. */
  positiveExamples: nonNegativeInt.annotate({ description: "Positive examples in the prompt: 0 = definition only (Self-Instruct's setting), 2 = Tk-Instruct's." }).pipe(withDefault(0)),
  /** Prompt template with `{definition}`, `{examples}`, `{input}`. */
  promptTemplate: Schema.optionalKey(Schema.String).annotate({ description: "Prompt template with `{definition}`, `{examples}`, `{input}`." }),
  /** Template of one demonstration with `{index}`, `{input}`, `{output}`. */
  exampleTemplate: Schema.optionalKey(Schema.String).annotate({ description: "Template of one demonstration with `{index}`, `{input}`, `{output}`." }),
  maxNewTokens: positiveInt.annotate({ description: "Most tokens generated per prediction." }).pipe(withDefault(128)),
  /** Shorten prompts that do not fit (drop demonstrations, then cut the input's tail); off = send as is. */
  fitToContext: Schema.Boolean.annotate({ description: "Shorten prompts that do not fit (drop demonstrations, then cut the input's tail); off = send as is." }).pipe(withDefault(true)),
  /** Prompt token budget when fitting; default: the model's context length minus `maxNewTokens`. */
  maxPromptTokens: Schema.optionalKey(positiveInt).annotate({ description: "Prompt token budget when fitting; default: the model's context length minus `maxNewTokens`." }),
  /** Generation stops before the first of these strings. */
  stop: Schema.Array(Schema.String).annotate({ description: "Generation stops before the first of these strings." }).pipe(withDefault(["\n\n"])),
  batchSize: positiveInt.annotate({ description: "Prompts sent to the model per call." }).pipe(withDefault(16))
})
/** Decoded options of `superni/evaluate`. */
export type EvaluateOptions = typeof EvaluateOptions.Type

/** Marks `metrics.json` so `refine-af compare` can find evaluation stages in a run directory. */
export const evaluationKind = "superni/evaluate"

const readResumed = (records: ReadonlyArray<JsonRecord>, expected: ReadonlyArray<{ task: string; id: string }>) =>
  Effect.gen(function*() {
    const decoded: Array<PredictionRecord> = []
    for (const [index, raw] of records.entries()) {
      const record = decodePredictionRecord(raw)
      const want = expected[index]
      if (record._tag === "None" || want === undefined || record.value.task !== want.task || record.value.id !== want.id) {
        return yield* new PredictionsMismatch({
          message: `resumed record ${index + 1} does not match the evaluation order (options or data changed since the interrupted run)`,
          fix: "Start a fresh run: the stage's evaluation set is not the one it was resumed with."
        })
      }
      decoded.push(record.value)
    }
    return decoded
  })

/** The `superni/evaluate` stage component. */
export const evaluateStage = defineStage({
  role: "evaluator",
  description: "Generates greedy predictions on SuperNI tasks and scores them (ROUGE-L with stemming, exact match); writes report.md/html and metrics.json.",
  deterministic: true,
  options: EvaluateOptions,
  uses: { model: LanguageModel },
  run: (ctx) =>
    Effect.gen(function*() {
      const options = ctx.options
      // `tasks` and `split` written relative in the recipe are next to the recipe (the cwd outside a run).
      const tasks = yield* loadTasks(options, ctx.recipeDir)
      const encode = yield* makePromptEncoder({
        positiveExamples: options.positiveExamples,
        ...(options.promptTemplate === undefined ? {} : { promptTemplate: options.promptTemplate }),
        ...(options.exampleTemplate === undefined ? {} : { exampleTemplate: options.exampleTemplate })
      })
      const order = evaluationOrder(tasks).map(({ instance, task }) => ({ task: task.name, id: instance.id }))
      const resumed = ctx.output.resumedCount > 0 ? yield* readResumed(yield* ctx.output.resumed(), order) : []
      const model = ctx.uses.model
      const promptBudget = options.maxPromptTokens ?? model.info.contextLength - options.maxNewTokens
      if (options.fitToContext && promptBudget <= 0) {
        return yield* new ContextTooSmall({
          model: model.info.id,
          message: `maxNewTokens=${options.maxNewTokens} leaves no room for the prompt in the ${model.info.contextLength}-token context of "${model.info.id}"`,
          fix: "Lower maxNewTokens or set maxPromptTokens explicitly."
        })
      }
      const produced = yield* predictAndScore({
        tasks,
        encode,
        model,
        examples: options.positiveExamples,
        ...(options.fitToContext ? { promptBudget } : {}),
        decoding: { maxNewTokens: options.maxNewTokens, stop: options.stop },
        batchSize: options.batchSize,
        skip: resumed.length,
        append: ctx.output.append,
        progress: ctx.events.progress
      })
      const all = [...resumed, ...produced]
      const summary = aggregateScores(all)
      const diagnostics = generationDiagnostics(all, { maxNewTokens: options.maxNewTokens, promptBudget })
      yield* Effect.forEach(diagnostics.warnings, ctx.events.warn)
      const header = {
        stage: ctx.name,
        model: model.info.id,
        encoding: options.positiveExamples === 0 ? "definition only" : `definition + ${options.positiveExamples} positive examples`,
        truncated: diagnostics.truncated
      }
      yield* writeArtifacts(ctx.dir, {
        "report.md": evaluationMarkdown(header, summary),
        "report.html": evaluationHtml(header, summary),
        "metrics.json": `${JSON.stringify({ kind: evaluationKind, ...header, promptFits: diagnostics.promptFits, summary }, null, 2)}\n`,
        "tables.json": `${JSON.stringify({ tables: evaluationTables(summary) }, null, 2)}\n`
      })
      yield* ctx.events.metric("rougeL", summary.overall.rougeL)
      yield* ctx.events.metric("exactMatch", summary.overall.exactMatch)
      return {
        metrics: {
          rougeL: summary.overall.rougeL,
          exactMatch: summary.overall.exactMatch,
          instances: summary.overall.instances,
          tasks: summary.overall.tasks
        }
      }
    }).pipe(Effect.mapError(toStageError(ctx.name)))
})
