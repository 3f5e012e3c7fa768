/**
 * The report of one evaluated model (`superni/evaluate`): overall official
 * scores, per-category and per-task tables, as Markdown and as a
 * self-contained HTML page with bar charts.
 */
import type { ScoreSummary } from "../metrics/aggregate.ts"
import { escapeHtml, fixed2, htmlTable, markdownTable } from "./format.ts"
import { htmlPage } from "./page.ts"
import { barChartSvg } from "./svg.ts"

/** What the report says about the run besides the scores. */
export interface EvaluationHeader {
  readonly stage: string
  readonly model: string
  readonly encoding: string
  /** Generations cut by the token limit (`finishReason: "length"`): a sign `maxNewTokens` is too small. */
  readonly truncated?: number
}

const truncationNote = (header: EvaluationHeader) =>
  header.truncated ? `; ${header.truncated} generations hit the token limit (raise maxNewTokens if answers look cut)` : ""

const metricLabel = (metric: string) => (metric === "exactMatch" ? "EM" : "ROUGE-L")

const categoryRows = (summary: ScoreSummary) =>
  summary.categories.map((category) => [
    category.category,
    metricLabel(category.metric),
    fixed2(category.score),
    fixed2(category.rougeL),
    fixed2(category.exactMatch),
    String(category.tasks),
    String(category.instances)
  ])

const taskRows = (summary: ScoreSummary) =>
  summary.tasks.map((task) => [
    task.task,
    task.category,
    metricLabel(task.metric),
    fixed2(task.score),
    fixed2(task.rougeL),
    fixed2(task.exactMatch),
    String(task.instances)
  ])

const categoryHeader = ["Category", "Metric", "Score", "ROUGE-L", "EM", "Tasks", "Instances"]
const taskHeader = ["Task", "Category", "Metric", "Score", "ROUGE-L", "EM", "Instances"]

/** `report.md` of an evaluation. */
export const evaluationMarkdown = (header: EvaluationHeader, summary: ScoreSummary): string =>
  [
    `# SuperNI evaluation — ${header.stage}`,
    "",
    `Model \`${header.model}\`, encoding: ${header.encoding}${truncationNote(header)}. Scores are 100 × mean, rounded to 4 decimals as the official scripts do; "Score" is the category's official metric (exact match for classification-like categories, ROUGE-L otherwise).`,
    "",
    `**Overall:** ROUGE-L ${fixed2(summary.overall.rougeL)}, exact match ${fixed2(summary.overall.exactMatch)} over ${summary.overall.instances} instances of ${summary.overall.tasks} tasks.`,
    "",
    "## Per category",
    "",
    markdownTable(categoryHeader, categoryRows(summary)),
    "",
    "## Per task",
    "",
    markdownTable(taskHeader, taskRows(summary)),
    ""
  ].join("\n")

/** `report.html` of an evaluation. */
export const evaluationHtml = (header: EvaluationHeader, summary: ScoreSummary): string => {
  const sortedTasks = [...summary.tasks].sort((a, b) => b.score - a.score)
  const body = [
    `<h1>SuperNI evaluation — ${escapeHtml(header.stage)}</h1>`,
    `<p class="meta">Model <code>${escapeHtml(header.model)}</code> · encoding: ${escapeHtml(header.encoding)} · ${summary.overall.tasks} tasks · ${summary.overall.instances} instances${escapeHtml(truncationNote(header))}</p>`,
    `<div class="headline"><div class="card">ROUGE-L<b>${fixed2(summary.overall.rougeL)}</b></div><div class="card">Exact match<b>${fixed2(summary.overall.exactMatch)}</b></div></div>`,
    "<h2>Per category</h2>",
    barChartSvg(
      summary.categories.map((category) => ({ label: `${category.category} (${metricLabel(category.metric)})`, values: [category.score] })),
      { title: "Official score per category", series: [{ name: "score", color: "#3b7dd8" }] }
    ),
    htmlTable(categoryHeader, categoryRows(summary), [2, 3, 4, 5, 6]),
    "<h2>Per task</h2>",
    barChartSvg(
      sortedTasks.map((task) => ({ label: task.task, values: [task.score] })),
      { title: "Official score per task (sorted)", series: [{ name: "score", color: "#3b7dd8" }] }
    ),
    htmlTable(taskHeader, taskRows(summary), [3, 4, 5, 6])
  ].join("\n")
  return htmlPage(`SuperNI evaluation — ${header.stage}`, body)
}
