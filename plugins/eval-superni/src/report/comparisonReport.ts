/**
 * The paired comparison report (`superni/compare`, `refine-af compare`): one
 * section per candidate against the baseline, with the share of tasks
 * improved / tied / worse, bootstrap intervals, per-category tables and the
 * sorted per-task difference chart.
 */
import type { RunComparison } from "../compare/compareRuns.ts"
import { escapeHtml, fixed2, htmlTable, markdownTable, percent1, signed2 } from "./format.ts"
import { htmlPage } from "./page.ts"
import { barChartSvg } from "./svg.ts"

const metricText = (comparison: RunComparison) =>
  comparison.metric === "official"
    ? "the official per-category metric"
    : comparison.metric === "rougeL" ? "ROUGE-L (stemmed)" : "exact match"

const share = (count: number, total: number) => percent1((100 * count) / total)

const headlineSentence = (comparison: RunComparison) => {
  const total = comparison.tasks.length
  const { bootstrap, counts } = comparison
  const level = Math.round(bootstrap.confidence * 100)
  return `**${comparison.candidate}** vs **${comparison.baseline}** on ${metricText(comparison)}: improved on ${counts.improved} of ${total} tasks (${share(counts.improved, total)}; ${level}% CI ${percent1(bootstrap.shareImproved.low)} – ${percent1(bootstrap.shareImproved.high)}), tied on ${counts.tied} (${share(counts.tied, total)}), worse on ${counts.worse} (${share(counts.worse, total)}). Mean per-task difference ${signed2(bootstrap.meanDelta.estimate)} (${level}% CI ${signed2(bootstrap.meanDelta.low)} – ${signed2(bootstrap.meanDelta.high)}).`
}

const bootstrapNote = (comparison: RunComparison) =>
  `Paired bootstrap: ${comparison.bootstrap.resamples} resamples of tasks${comparison.bootstrap.resampleInstances ? " and of instances within tasks" : ""}, seed ${comparison.bootstrap.seed}; ties are differences within ±${comparison.tieTolerance}. ${comparison.instances} matched instances${comparison.unmatched.baselineOnly + comparison.unmatched.candidateOnly > 0 ? ` (${comparison.unmatched.baselineOnly} only in the baseline, ${comparison.unmatched.candidateOnly} only in the candidate, left out)` : ""}.`

const categoryHeader = ["Category", "Metric", "Tasks", "Baseline", "Candidate", "Δ", "Improved", "Tied", "Worse"]
const categoryRows = (comparison: RunComparison) =>
  comparison.categories.map((category) => [
    category.category,
    category.metric,
    String(category.tasks),
    fixed2(category.baseline),
    fixed2(category.candidate),
    signed2(category.delta),
    String(category.improved),
    String(category.tied),
    String(category.worse)
  ])

const taskHeader = ["Task", "Category", "Metric", "Instances", "Baseline", "Candidate", "Δ", "Outcome"]
const sortedTasks = (comparison: RunComparison) => [...comparison.tasks].sort((a, b) => b.delta - a.delta)
const taskRows = (comparison: RunComparison) =>
  sortedTasks(comparison).map((task) => [
    task.task,
    task.category,
    task.metric,
    String(task.instances),
    fixed2(task.baseline),
    fixed2(task.candidate),
    signed2(task.delta),
    task.outcome
  ])

const overallLine = (comparison: RunComparison) =>
  `Overall on matched instances: ROUGE-L ${fixed2(comparison.overall.baseline.rougeL)} → ${fixed2(comparison.overall.candidate.rougeL)}, exact match ${fixed2(comparison.overall.baseline.exactMatch)} → ${fixed2(comparison.overall.candidate.exactMatch)}.`

const summaryHeader = ["Candidate", "Baseline", "Tasks", "Improved", "Improved CI", "Tied", "Worse", "Mean Δ", "Mean Δ CI"]
const summaryRows = (comparisons: ReadonlyArray<RunComparison>) =>
  comparisons.map((comparison) => {
    const total = comparison.tasks.length
    const { meanDelta, shareImproved } = comparison.bootstrap
    return [
      comparison.candidate,
      comparison.baseline,
      String(total),
      share(comparison.counts.improved, total),
      `${percent1(shareImproved.low)} – ${percent1(shareImproved.high)}`,
      String(comparison.counts.tied),
      String(comparison.counts.worse),
      signed2(meanDelta.estimate),
      `${signed2(meanDelta.low)} – ${signed2(meanDelta.high)}`
    ]
  })

/** `report.md` of a comparison (a summary table when there are several candidates, then one section per candidate). */
export const comparisonMarkdown = (comparisons: ReadonlyArray<RunComparison>): string =>
  [
    "# SuperNI paired comparison",
    "",
    ...(comparisons.length > 1 ? ["## Summary", "", markdownTable(summaryHeader, summaryRows(comparisons)), ""] : []),
    ...comparisons.flatMap((comparison) => [
      `## ${comparison.candidate} vs ${comparison.baseline}`,
      "",
      headlineSentence(comparison),
      "",
      overallLine(comparison),
      "",
      bootstrapNote(comparison),
      "",
      "### Per category",
      "",
      markdownTable(categoryHeader, categoryRows(comparison)),
      "",
      "### Per task (sorted by difference)",
      "",
      markdownTable(taskHeader, taskRows(comparison)),
      ""
    ])
  ].join("\n")

const markdownBold = (text: string) => escapeHtml(text).replace(/\*\*(.+?)\*\*/g, "<b>$1</b>")

const comparisonSection = (comparison: RunComparison) => {
  const total = comparison.tasks.length
  const level = Math.round(comparison.bootstrap.confidence * 100)
  return [
    `<h2>${escapeHtml(comparison.candidate)} vs ${escapeHtml(comparison.baseline)}</h2>`,
    `<div class="headline">`,
    `<div class="card">Tasks improved<b>${share(comparison.counts.improved, total)}</b>${level}% CI ${percent1(comparison.bootstrap.shareImproved.low)} – ${percent1(comparison.bootstrap.shareImproved.high)}</div>`,
    `<div class="card">Tied / worse<b>${comparison.counts.tied} / ${comparison.counts.worse}</b>of ${total} tasks</div>`,
    `<div class="card">Mean Δ per task<b>${signed2(comparison.bootstrap.meanDelta.estimate)}</b>${level}% CI ${signed2(comparison.bootstrap.meanDelta.low)} – ${signed2(comparison.bootstrap.meanDelta.high)}</div>`,
    `</div>`,
    `<p>${markdownBold(headlineSentence(comparison))}</p>`,
    `<p class="meta">${escapeHtml(overallLine(comparison))} ${escapeHtml(bootstrapNote(comparison))}</p>`,
    barChartSvg(
      comparison.categories.map((category) => ({ label: category.category, values: [category.baseline, category.candidate] })),
      {
        title: "Per category",
        series: [{ name: comparison.baseline, color: "#9aa5b1" }, { name: comparison.candidate, color: "#3b7dd8" }]
      }
    ),
    htmlTable(categoryHeader, categoryRows(comparison), [2, 3, 4, 5, 6, 7, 8]),
    barChartSvg(
      sortedTasks(comparison).map((task) => ({ label: task.task, values: [task.delta] })),
      {
        title: `Per-task difference (${comparison.candidate} − ${comparison.baseline}), sorted`,
        series: [{ name: "Δ", color: "#3b7dd8" }],
        signColors: { positive: "#2f9e44", negative: "#d9480f" }
      }
    ),
    htmlTable(taskHeader, taskRows(comparison), [3, 4, 5, 6])
  ].join("\n")
}

/** `report.html` of a comparison. */
export const comparisonHtml = (comparisons: ReadonlyArray<RunComparison>): string =>
  htmlPage(
    "SuperNI paired comparison",
    [
      `<h1>SuperNI paired comparison</h1>`,
      ...(comparisons.length > 1 ? ["<h2>Summary</h2>", htmlTable(summaryHeader, summaryRows(comparisons), [2, 3, 5, 6, 7])] : []),
      ...comparisons.map(comparisonSection)
    ].join("\n")
  )
