/**
 * The evaluation tables the run report shows (`tables.json` in the stage folder, see the
 * report conventions in `@refine-af/core`): scores overall, per category and per task for
 * `superni/evaluate`; for `superni/compare` the paired result of each candidate (tasks
 * improved / tied / worse with the bootstrap intervals), per category and per task.
 *
 * @example
 * ```ts
 * import { evaluationTables } from "./runReportTables.ts"
 * import type { ScoreSummary } from "../metrics/aggregate.ts"
 * declare const summary: ScoreSummary
 * const tables = evaluationTables(summary)
 * ```
 */
import type { ReportTable } from "@refine-af/core"
import type { RunComparison } from "../compare/compareRuns.ts"
import type { ScoreSummary } from "../metrics/aggregate.ts"

const round = (value: number, digits = 2) => Number(value.toFixed(digits))
const interval = (low: number, high: number, digits = 1) => `${low.toFixed(digits)} – ${high.toFixed(digits)}`

/** Tables of one evaluation: overall, per category (official metric), per task. */
export const evaluationTables = (summary: ScoreSummary): Array<ReportTable> => [
  {
    title: "SuperNI scores",
    columns: ["tasks", "instances", "ROUGE-L", "exact match"],
    rows: [[summary.overall.tasks, summary.overall.instances, round(summary.overall.rougeL), round(summary.overall.exactMatch)]]
  },
  {
    title: "Per category",
    columns: ["category", "metric", "score", "tasks", "instances"],
    rows: summary.categories.map((category) => [category.category, category.metric, round(category.score), category.tasks, category.instances])
  },
  {
    title: "Per task",
    columns: ["task", "category", "metric", "score", "instances"],
    rows: summary.tasks.map((task) => [task.task, task.category, task.metric, round(task.score), task.instances])
  }
]

/** Tables of a paired comparison: the headline per candidate, then per category and per task (largest gain first). */
export const comparisonTables = (comparisons: ReadonlyArray<RunComparison>): Array<ReportTable> => [
  {
    title: "Paired comparison with the baseline",
    columns: ["candidate", "baseline", "metric", "tasks", "improved", "tied", "worse", "% improved", "% improved CI", "mean Δ", "mean Δ CI"],
    rows: comparisons.map((comparison) => [
      comparison.candidate,
      comparison.baseline,
      comparison.metric,
      comparison.tasks.length,
      comparison.counts.improved,
      comparison.counts.tied,
      comparison.counts.worse,
      round(comparison.bootstrap.shareImproved.estimate, 1),
      interval(comparison.bootstrap.shareImproved.low, comparison.bootstrap.shareImproved.high),
      round(comparison.bootstrap.meanDelta.estimate),
      interval(comparison.bootstrap.meanDelta.low, comparison.bootstrap.meanDelta.high, 2)
    ]),
    note: comparisons.length === 0 ? "" : `Paired bootstrap over tasks${comparisons[0]!.bootstrap.resampleInstances ? " and instances within tasks" : ""}: ${comparisons[0]!.bootstrap.resamples} resamples, ${Math.round(comparisons[0]!.bootstrap.confidence * 100)}% intervals; ties are per-task differences within ±${comparisons[0]!.tieTolerance}.`
  },
  ...comparisons.flatMap((comparison): Array<ReportTable> => [
    {
      title: `Per category: ${comparison.candidate} vs ${comparison.baseline}`,
      columns: ["category", "metric", "tasks", "baseline", "candidate", "Δ", "improved", "tied", "worse"],
      rows: comparison.categories.map((category) => [category.category, category.metric, category.tasks, round(category.baseline), round(category.candidate), round(category.delta), category.improved, category.tied, category.worse])
    },
    {
      title: `Per task: ${comparison.candidate} vs ${comparison.baseline}`,
      columns: ["task", "category", "baseline", "candidate", "Δ", "outcome"],
      rows: [...comparison.tasks].sort((a, b) => b.delta - a.delta).map((task) => [task.task, task.category, round(task.baseline), round(task.candidate), round(task.delta), task.outcome])
    }
  ])
]
