/**
 * `superni/compare`: paired per-task comparison of two or more upstream
 * `superni/evaluate` stages on the same instances. Each stage of the
 * `candidates` list port is compared with `baseline`, in the listed order; the
 * stage writes one record per (candidate, task) and `report.md`,
 * `report.html`, `comparison.json`, and `tables.json` for the run report.
 * (The former `candidate`, `candidate2..4` ports are gone: `validate` reports
 * them as unknown keys and suggests `candidates`.)
 *
 * Recipe node:
 * ```yaml
 * compare:
 *   _component_: superni/compare
 *   baseline: eval_self_instruct     # input ports name upstream evaluate stages
 *   candidates: [eval_rlaf, eval_sft]
 *   metric: rougeL
 * ```
 */
import { Effect, Schema } from "effect"
import { defineStage, type JsonRecord, type StageInput } from "@refine-af/core"
import { compareAgainstBaseline, defaultCompareOptions } from "../compare/compareAll.ts"
import { PredictionsMismatch } from "../errors.ts"
import { decodePredictionRecord, type PredictionRecord } from "../metrics/prediction.ts"
import { comparisonTables } from "../report/runReportTables.ts"
import { writeArtifacts } from "../report/writeArtifacts.ts"
import { positiveInt, withDefault } from "./options.ts"
import { toStageError } from "./stageError.ts"

/** Options of `superni/compare`. */
export const CompareStageOptions = Schema.Struct({
  /** Per-instance metric deciding "improved": `rougeL` (paper headline), `exactMatch`, or `official` (per category). */
  metric: Schema.Literals(["rougeL", "exactMatch", "official"]).annotate({ description: "Per-instance metric deciding \"improved\": `rougeL` (paper headline), `exactMatch`, or `official` (per category)." }).pipe(withDefault("rougeL")),
  resamples: positiveInt.annotate({ description: "Paired bootstrap resamples." }).pipe(withDefault(defaultCompareOptions.resamples)),
  /** Bootstrap seed; defaults to the stage seed. */
  seed: Schema.optionalKey(Schema.Number.check(Schema.isInt())).annotate({ description: "Bootstrap seed; defaults to the stage seed." }),
  confidence: Schema.Number.check(Schema.isBetween({ minimum: 0.5, maximum: 0.999 })).annotate({ description: "Level of the bootstrap confidence intervals." }).pipe(withDefault(0.95)),
  /** Resample instances within each drawn task as well as tasks. */
  resampleInstances: Schema.Boolean.annotate({ description: "Resample instances within each drawn task as well as tasks." }).pipe(withDefault(true)),
  /** Per-task differences within ±tieTolerance count as ties. */
  tieTolerance: Schema.Number.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "Per-task differences within ±tieTolerance count as ties." }).pipe(withDefault(1e-9))
})
/** Decoded options of `superni/compare`. */
export type CompareStageOptions = typeof CompareStageOptions.Type

/** Reads an upstream evaluate stage's predictions, failing when its records are something else. */
export const readPredictions = (input: StageInput) =>
  Effect.gen(function*() {
    const raw = yield* input.readAll()
    const records: Array<PredictionRecord> = []
    for (const [index, record] of raw.entries()) {
      const decoded = decodePredictionRecord(record)
      if (decoded._tag === "None") {
        return yield* new PredictionsMismatch({
          message: `record ${index + 1} of stage "${input.stage}" is not a SuperNI prediction`,
          fix: "Connect the port to a superni/evaluate stage."
        })
      }
      records.push(decoded.value)
    }
    return { name: input.stage, records }
  })

/** The `superni/compare` stage component. */
export const compareStage = defineStage({
  role: "evaluator",
  // How `refine-af compare` finds this stage: it compares `evaluate` stages, imported from other runs by `predictions`.
  compares: { evaluations: ["evaluate"], importer: "predictions" },
  description: "Paired per-task comparison of SuperNI evaluations: deltas, share of tasks improved with bootstrap CIs, per-category tables; writes report.md/html and comparison.json.",
  deterministic: true,
  options: CompareStageOptions,
  inputs: {
    baseline: { description: "the superni/evaluate stage every candidate is compared with" },
    candidates: { description: "the superni/evaluate stages to compare with the baseline, in report order", list: true }
  },
  run: (ctx) =>
    Effect.gen(function*() {
      const baselineInput = ctx.inputs["baseline"]
      const candidateInputs = ctx.inputLists?.["candidates"] ?? []
      if (baselineInput === undefined || candidateInputs.length === 0) {
        return yield* new PredictionsMismatch({
          message: "the stage needs a baseline and at least one candidate",
          fix: "Connect `baseline:` and `candidates: [...]` to superni/evaluate stages."
        })
      }
      const baseline = yield* readPredictions(baselineInput)
      const candidates = yield* Effect.forEach(candidateInputs, readPredictions)
      const { comparisons, files } = yield* compareAgainstBaseline(baseline, candidates, {
        ...ctx.options,
        seed: ctx.options.seed ?? ctx.seed
      })
      const records: Array<JsonRecord> = comparisons.flatMap((comparison) =>
        comparison.tasks.map((task) => ({
          baselineRun: comparison.baseline,
          candidateRun: comparison.candidate,
          task: task.task,
          category: task.category,
          metric: task.metric,
          instances: task.instances,
          baselineScore: task.baseline,
          candidateScore: task.candidate,
          delta: task.delta,
          outcome: task.outcome
        }))
      )
      yield* ctx.output.append(records)
      yield* writeArtifacts(ctx.dir, { ...files, "tables.json": `${JSON.stringify({ tables: comparisonTables(comparisons) }, null, 2)}\n` })
      const metrics: Record<string, number> = {}
      // Counts of tasks as their names say, and the share improved in per cent under its own name.
      for (const comparison of comparisons) {
        metrics[`${comparison.candidate}.tasksImproved`] = comparison.counts.improved
        metrics[`${comparison.candidate}.tasksWorse`] = comparison.counts.worse
        metrics[`${comparison.candidate}.tasksImprovedPct`] = comparison.bootstrap.shareImproved.estimate
        metrics[`${comparison.candidate}.meanDelta`] = comparison.bootstrap.meanDelta.estimate
        yield* ctx.events.metric(`${comparison.candidate}.tasksImprovedPct`, comparison.bootstrap.shareImproved.estimate)
      }
      return { metrics }
    }).pipe(Effect.mapError(toStageError(ctx.name)))
})
