/**
 * Paired per-task comparison of two evaluated runs on the same instances:
 * per-task differences, the share of tasks improved / tied / worse, per-category
 * tables and a paired bootstrap. Instances are matched by (task, instance id);
 * unmatched ones are counted and left out.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { compareRuns } from "@refine-af/eval-superni"
 * const report = compareRuns(
 *   { name: "self-instruct", records: [] },
 *   { name: "rlaf", records: [] },
 *   { metric: "rougeL", resamples: 1000, seed: 1, confidence: 0.95, resampleInstances: true, tieTolerance: 1e-9 }
 * ) // fails with PredictionsMismatch: no shared instances
 * ```
 */
import { Effect } from "effect"
import { PredictionsMismatch } from "../errors.ts"
import { aggregateScores, type GroupScores } from "../metrics/aggregate.ts"
import { officialMetricFor, type MetricName } from "../metrics/categories.ts"
import type { PredictionRecord } from "../metrics/prediction.ts"
import { pairedBootstrap, type BootstrapOptions, type BootstrapResult } from "./bootstrap.ts"

/** Which per-instance metric decides "better": one metric for all tasks, or the official per-category one. */
export type ComparisonMetric = MetricName | "official"

/** Bootstrap settings plus the metric that decides "better". */
export interface CompareOptions extends BootstrapOptions {
  /** `rougeL` is the paper's headline ("ROUGE-L improved on X% of tasks"). */
  readonly metric: ComparisonMetric
}

/** A named run's prediction records. */
export interface RunPredictions {
  readonly name: string
  readonly records: ReadonlyArray<PredictionRecord>
}

/** How a task fared in the candidate run. */
export type Outcome = "improved" | "tied" | "worse"

/** One task's paired result. */
export interface TaskComparison {
  readonly task: string
  readonly category: string
  readonly metric: MetricName
  readonly instances: number
  /** Task means ×100 (unrounded). */
  readonly baseline: number
  readonly candidate: number
  readonly delta: number
  readonly outcome: Outcome
}

/** Number of tasks per outcome. */
export interface OutcomeCounts {
  readonly improved: number
  readonly tied: number
  readonly worse: number
}

/** One category's paired result: instance-weighted means of the chosen metric and task outcomes. */
export interface CategoryComparison extends OutcomeCounts {
  readonly category: string
  readonly metric: MetricName
  readonly tasks: number
  readonly baseline: number
  readonly candidate: number
  readonly delta: number
}

/** The full comparison of `candidate` against `baseline`. */
export interface RunComparison {
  readonly baseline: string
  readonly candidate: string
  readonly metric: ComparisonMetric
  readonly instances: number
  readonly unmatched: { readonly baselineOnly: number; readonly candidateOnly: number }
  readonly tasks: ReadonlyArray<TaskComparison>
  readonly counts: OutcomeCounts
  readonly categories: ReadonlyArray<CategoryComparison>
  readonly bootstrap: BootstrapResult & Omit<BootstrapOptions, "tieTolerance">
  readonly tieTolerance: number
  /** Official aggregates of both runs on the matched instances. */
  readonly overall: { readonly baseline: GroupScores; readonly candidate: GroupScores }
}

const keyOf = (record: PredictionRecord) => `${record.task}\u0000${record.id}`

interface PairedTask {
  readonly task: string
  readonly category: string
  readonly metric: MetricName
  readonly baselineRecords: Array<PredictionRecord>
  readonly candidateRecords: Array<PredictionRecord>
}

const pairRecords = (baseline: RunPredictions, candidate: RunPredictions, metric: ComparisonMetric) => {
  const candidateByKey = new Map(candidate.records.map((record) => [keyOf(record), record]))
  const tasks = new Map<string, PairedTask>()
  let matched = 0
  for (const record of baseline.records) {
    const other = candidateByKey.get(keyOf(record))
    if (other === undefined) continue
    matched += 1
    const task = tasks.get(record.task) ?? {
      task: record.task,
      category: record.category,
      metric: metric === "official" ? officialMetricFor(record.category) : metric,
      baselineRecords: [],
      candidateRecords: []
    }
    task.baselineRecords.push(record)
    task.candidateRecords.push(other)
    tasks.set(record.task, task)
  }
  return { tasks: [...tasks.values()], matched }
}

const mean = (values: ReadonlyArray<number>) => values.reduce((sum, value) => sum + value, 0) / values.length

const outcomeOf = (delta: number, tolerance: number): Outcome =>
  delta > tolerance ? "improved" : delta < -tolerance ? "worse" : "tied"

const countOutcomes = (tasks: ReadonlyArray<TaskComparison>): OutcomeCounts => ({
  improved: tasks.filter((task) => task.outcome === "improved").length,
  tied: tasks.filter((task) => task.outcome === "tied").length,
  worse: tasks.filter((task) => task.outcome === "worse").length
})

/** Compares two runs; fails when they share no instance. */
export const compareRuns = (
  baseline: RunPredictions,
  candidate: RunPredictions,
  options: CompareOptions
): Effect.Effect<RunComparison, PredictionsMismatch> =>
  Effect.gen(function*() {
    const { tasks: paired, matched } = pairRecords(baseline, candidate, options.metric)
    if (matched === 0) {
      return yield* new PredictionsMismatch({
        message: `runs "${baseline.name}" and "${candidate.name}" share no (task, instance id) pair`,
        fix: "Compare runs evaluated on the same evaluation set (same tasks and instance ids)."
      })
    }
    const scoresOf = (records: ReadonlyArray<PredictionRecord>, metric: MetricName) =>
      records.map((record) => 100 * record[metric])
    const pairedScores = paired.map((task) => ({
      baseline: scoresOf(task.baselineRecords, task.metric),
      candidate: scoresOf(task.candidateRecords, task.metric)
    }))
    const tasks = paired.map((task, index): TaskComparison => {
      const scores = pairedScores[index]!
      const baselineMean = mean(scores.baseline)
      const candidateMean = mean(scores.candidate)
      const delta = candidateMean - baselineMean
      return {
        task: task.task,
        category: task.category,
        metric: task.metric,
        instances: scores.baseline.length,
        baseline: baselineMean,
        candidate: candidateMean,
        delta,
        outcome: outcomeOf(delta, options.tieTolerance)
      }
    })
    const categoryNames = [...new Set(tasks.map((task) => task.category))]
    const categories = categoryNames.map((category): CategoryComparison => {
      const members = paired.flatMap((task, index) => (task.category === category ? [index] : []))
      const baselineScores = members.flatMap((index) => pairedScores[index]!.baseline)
      const candidateScores = members.flatMap((index) => pairedScores[index]!.candidate)
      const memberTasks = members.map((index) => tasks[index]!)
      return {
        category,
        metric: memberTasks[0]!.metric,
        tasks: members.length,
        baseline: mean(baselineScores),
        candidate: mean(candidateScores),
        delta: mean(candidateScores) - mean(baselineScores),
        ...countOutcomes(memberTasks)
      }
    })
    const { confidence, resampleInstances, resamples, seed, tieTolerance } = options
    return {
      baseline: baseline.name,
      candidate: candidate.name,
      metric: options.metric,
      instances: matched,
      unmatched: { baselineOnly: baseline.records.length - matched, candidateOnly: candidate.records.length - matched },
      tasks,
      counts: countOutcomes(tasks),
      categories,
      bootstrap: { resamples, seed, confidence, resampleInstances, ...pairedBootstrap(pairedScores, options) },
      tieTolerance,
      overall: {
        baseline: aggregateScores(paired.flatMap((task) => task.baselineRecords)).overall,
        candidate: aggregateScores(paired.flatMap((task) => task.candidateRecords)).overall
      }
    }
  })
