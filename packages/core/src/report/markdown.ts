/**
 * `report.md`: the run report as Markdown whose every line fits 100 columns (readable with
 * `cat` in a terminal and rendered on GitHub). Curves become sparklines with their first,
 * last, lowest and highest values; the SVG charts are in `report.html`.
 */
import type { ReportTable } from "./conventions.ts"
import type { RunReport, SampleGroup, SampleValue, StageReport } from "./schema.ts"
import { cellText, formatNumber, hangingIndent, markdownWidth, pipeTable, sparkline, wrapText } from "./text-layout.ts"

const seconds = (ms: number | null) => (ms === null ? "-" : `${(ms / 1000).toFixed(1)}s`)

/** The stage table's columns and rows (shared with the HTML page). */
export const stageTable = (report: RunReport): ReportTable => ({
  title: "Stages",
  columns: ["stage", "component", "status", "cache hit", "records", "time"],
  rows: report.stages.map((stage) => [stage.name, stage.component, stage.status, stage.cacheHit ? "yes" : "no", stage.records, seconds(stage.durationMs)])
})

/** The resource table (shared with the HTML page). */
export const resourceTable = (report: RunReport): ReportTable => ({
  title: "Resources",
  columns: ["resource", "component", "built from", "uses", "made"],
  rows: report.resources.map((resource) => [resource.name, resource.component, resource.builtFrom.join(", ") || "-", resource.uses.join(", ") || "-", resource.made ? "yes" : "no"])
})

/** A sample field's value as one line of text. */
export const sampleText = (value: SampleValue): string =>
  value === null ? "-" : typeof value === "object" ? Object.entries(value).map(([part, v]) => `${part}=${v === null ? "-" : formatNumber(v)}`).join(", ") : typeof value === "number" ? formatNumber(value) : String(value)

/** True when a stage has anything beyond its row in the stage table. */
export const hasDetails = (stage: StageReport): boolean =>
  stage.error !== undefined || stage.metrics.length > 0 || stage.tables.length > 0 || stage.curves.length > 0 || stage.samples.length > 0

/** Rows as numbered "column: value" blocks: how a wide table of few rows stays readable in 100 columns. */
const recordLines = (table: ReportTable): Array<string> =>
  table.rows.flatMap((row, index) =>
    table.columns.flatMap((column, c) => hangingIndent(`${c === 0 ? `${index + 1}.` : "  "} ${column}: `, cellText(row[c] ?? null), markdownWidth))
  )

/** A table that fits as is; too wide, a few rows become blocks and many rows are cut. */
const fittedTable = (table: ReportTable): Array<string> => {
  const natural = pipeTable(table.columns, table.rows, Number.POSITIVE_INFINITY)
  if (natural.every((line) => line.length <= markdownWidth)) return natural
  return table.rows.length <= 4 ? recordLines(table) : pipeTable(table.columns, table.rows)
}

const tableLines = (table: ReportTable): Array<string> => [
  `**${table.title}**`,
  "",
  ...fittedTable(table),
  ...(table.note === undefined ? [] : ["", ...wrapText(table.note, markdownWidth)]),
  ""
]

/** The metrics as a table of up to three (metric, value) pairs per row, as many as fit. */
const metricLines = (stage: StageReport): Array<string> => {
  for (const pairs of [3, 2]) {
    const rows = Array.from({ length: Math.ceil(stage.metrics.length / pairs) }, (_, row) =>
      Array.from({ length: pairs }, (_, column) => stage.metrics[column * Math.ceil(stage.metrics.length / pairs) + row]).flatMap((metric) => (metric === undefined ? ["", ""] : [metric.name, formatNumber(metric.value)]))
    )
    const lines = pipeTable(Array.from({ length: pairs }, () => ["metric", "value"]).flat(), rows, Number.POSITIVE_INFINITY)
    if (stage.metrics.length > pairs && lines.every((line) => line.length <= markdownWidth)) return ["**Metrics**", "", ...lines, ""]
  }
  return tableLines({ title: "Metrics", columns: ["metric", "value"], rows: stage.metrics.map((metric) => [metric.name, metric.value]) })
}

const curveLines = (stage: StageReport): Array<string> => {
  if (stage.curves.length === 0) return []
  const rows = stage.curves.map((curve) => {
    const values = curve.points.map((point) => point.value)
    const finite = values.filter((value): value is number => value !== null)
    return [curve.name, sparkline(values, 24), formatNumber(finite[0]!), formatNumber(finite.at(-1)!), formatNumber(Math.min(...finite)), formatNumber(Math.max(...finite)), curve.points.length]
  })
  return tableLines({ title: "Curves (per step; charts in report.html)", columns: ["curve", "trend", "first", "last", "min", "max", "points"], rows })
}

const sampleLines = (group: SampleGroup): Array<string> => [
  `**Samples: ${group.group}** (${group.samples.length})`,
  "",
  ...group.samples.flatMap((fields, index) =>
    fields.flatMap((field, fieldIndex) => hangingIndent(`${fieldIndex === 0 ? `${index + 1}.` : "  "} ${field.name}: `, sampleText(field.value), markdownWidth))
  ),
  ""
]

const stageLines = (stage: StageReport): Array<string> => {
  if (!hasDetails(stage)) return []
  return [
    `### ${stage.name} (${stage.component})`,
    "",
    ...(stage.error === undefined ? [] : [...hangingIndent("Error: ", stage.error, markdownWidth), ""]),
    ...(stage.metrics.length === 0 ? [] : metricLines(stage)),
    ...stage.tables.flatMap(tableLines),
    ...curveLines(stage),
    ...stage.samples.flatMap(sampleLines)
  ]
}

/** The Markdown text of a run report. */
export const reportMarkdown = (report: RunReport): string => {
  const { run } = report
  const facts = [
    `recipe: ${run.recipe} (${run.recipeFile})`,
    `status: ${run.status}; seed ${run.seed}; attempts ${run.attempts}; cache hits ${run.cacheHits}/${report.stages.length}`,
    `started ${run.startedAt}${run.endedAt === undefined ? "" : `, ended ${run.endedAt}`}`,
    ...(run.gitCommit === undefined ? [] : [`git commit: ${run.gitCommit}`]),
    ...(run.error === undefined ? [] : [`error: ${run.error}`])
  ]
  // A long run id (a comparison run's names both runs) moves out of the heading, which cannot wrap.
  const heading = `# Run report: ${run.id}`
  const fits = heading.length <= markdownWidth
  const lines = [
    fits ? heading : "# Run report",
    "",
    ...(fits ? facts : [`run: ${run.id}`, ...facts]).flatMap((fact) => hangingIndent("- ", fact, markdownWidth)),
    "",
    ...(report.outputs.length === 0 ? [] : [
      "## Outputs (paths relative to the run folder)",
      "",
      ...report.outputs.flatMap((output) => hangingIndent("- ", `${output.kind} (${output.stage}): ${output.path}`, markdownWidth)),
      ""
    ]),
    "## Stages",
    "",
    ...pipeTable(stageTable(report).columns, stageTable(report).rows),
    "",
    ...(report.resources.length === 0 ? [] : ["## Resources", "", ...pipeTable(resourceTable(report).columns, resourceTable(report).rows), ""]),
    ...(report.stages.some(hasDetails) ? ["## Stage details", "", ...report.stages.flatMap(stageLines)] : []),
    ...(report.warnings.length === 0 ? [] : [
      "## Warnings",
      "",
      ...report.warnings.flatMap((warning) => hangingIndent("- ", `${warning.stage === undefined ? "" : `${warning.stage}: `}${warning.message}`, markdownWidth)),
      ""
    ]),
    ...(report.problems.length === 0 ? [] : [
      "## Report problems",
      "",
      ...report.problems.flatMap((problem) => hangingIndent("- ", problem, markdownWidth)),
      ""
    ])
  ]
  return `${lines.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd()}\n`
}
