/**
 * Aggregation of per-instance scores the way SuperNI reports them:
 * `round(100 * sum / n, 4)`, summing in record order as the official scripts
 * do, per task, per category and overall. Each task and category also carries
 * its `score` under the official category-to-metric convention.
 *
 * @example
 * ```ts
 * import { aggregateScores } from "@refine-af/eval-superni"
 * const summary = aggregateScores([
 *   { task: "t1", category: "Word Analogy", id: "1", prediction: "a", references: ["a"], rougeL: 1, exactMatch: 1 }
 * ])
 * summary.overall.rougeL // 100
 * ```
 */
import { officialMetricFor, type MetricName } from "./categories.ts"
import { pythonRound } from "./pythonRound.ts"

/** The fields aggregation needs from a prediction record. */
export interface ScoredInstance {
  readonly task: string
  readonly category: string
  readonly rougeL: number
  readonly exactMatch: number
}

/** Scores of one group (task, category or everything), ×100 and rounded to 4 decimals. */
export interface GroupScores {
  readonly rougeL: number
  readonly exactMatch: number
  readonly instances: number
}

/** One task's scores and its official reporting metric. */
export interface TaskScores extends GroupScores {
  readonly task: string
  readonly category: string
  /** The official reporting metric of the task's category. */
  readonly metric: MetricName
  /** The value of that metric. */
  readonly score: number
}

/** One category's scores (instance-weighted, as the official scripts) and its official metric. */
export interface CategoryScores extends GroupScores {
  readonly category: string
  readonly metric: MetricName
  readonly score: number
  readonly tasks: number
}

/** Everything `superni/evaluate` reports. */
export interface ScoreSummary {
  readonly overall: GroupScores & { readonly tasks: number }
  readonly categories: ReadonlyArray<CategoryScores>
  readonly tasks: ReadonlyArray<TaskScores>
}

class Accumulator {
  rougeL = 0
  exactMatch = 0
  instances = 0
  add(instance: ScoredInstance): void {
    this.rougeL += instance.rougeL
    this.exactMatch += instance.exactMatch
    this.instances += 1
  }
  scores(): GroupScores {
    const scale = (sum: number) => (this.instances === 0 ? 0 : pythonRound((100 * sum) / this.instances, 4))
    return { rougeL: scale(this.rougeL), exactMatch: scale(this.exactMatch), instances: this.instances }
  }
}

const groupBy = <K>(instances: ReadonlyArray<ScoredInstance>, key: (instance: ScoredInstance) => K) => {
  const groups = new Map<K, Accumulator>()
  for (const instance of instances) {
    const group = groups.get(key(instance)) ?? new Accumulator()
    group.add(instance)
    groups.set(key(instance), group)
  }
  return groups
}

/** Aggregates per-instance scores; tasks and categories keep first-appearance order. */
export const aggregateScores = (instances: ReadonlyArray<ScoredInstance>): ScoreSummary => {
  const overall = new Accumulator()
  for (const instance of instances) overall.add(instance)
  const taskCategory = new Map<string, string>()
  for (const instance of instances) if (!taskCategory.has(instance.task)) taskCategory.set(instance.task, instance.category)
  const tasks = [...groupBy(instances, (instance) => instance.task)].map(([task, group]): TaskScores => {
    const category = taskCategory.get(task)!
    const metric = officialMetricFor(category)
    const scores = group.scores()
    return { task, category, metric, score: scores[metric], ...scores }
  })
  const categories = [...groupBy(instances, (instance) => instance.category)].map(([category, group]): CategoryScores => {
    const metric = officialMetricFor(category)
    const scores = group.scores()
    const taskCount = tasks.filter((task) => task.category === category).length
    return { category, metric, score: scores[metric], tasks: taskCount, ...scores }
  })
  return { overall: { ...overall.scores(), tasks: tasks.length }, categories, tasks }
}
