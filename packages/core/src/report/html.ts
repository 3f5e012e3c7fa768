/**
 * `report.html`: the run report as one self-contained page — inline CSS, inline SVG charts,
 * no scripts and no network — that opens from disk in any browser.
 */
import type { ReportTable } from "./conventions.ts"
import { hasDetails, resourceTable, sampleText, stageTable } from "./markdown.ts"
import type { RunReport, SampleGroup, StageReport } from "./schema.ts"
import { curveSvg, escapeXml } from "./svg-chart.ts"
import { cellText } from "./text-layout.ts"

const style = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; margin: 0; background: #f3f4f6; }
main { max-width: 1120px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 18px; margin: 28px 0 8px; } h3 { font-size: 16px; margin: 0 0 10px; }
h4 { font-size: 14px; margin: 16px 0 6px; color: #374151; }
section.stage { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px; margin: 12px 0; }
div.table { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 4px 0 8px; background: #fff; }
th, td { border: 1px solid #e5e7eb; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f9fafb; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.facts { color: #374151; } .facts span { margin-right: 16px; }
.status-completed, .status-cached { color: #047857; } .status-failed { color: #b91c1c; } .status-interrupted, .status-running, .status-pending { color: #b45309; }
.charts { display: flex; flex-wrap: wrap; gap: 10px; }
.charts svg { border: 1px solid #e5e7eb; border-radius: 6px; }
.sample { border-left: 3px solid #93c5fd; padding: 4px 10px; margin: 6px 0; background: #f9fafb; }
.sample dt { font-weight: 600; color: #374151; } .sample dd { margin: 0 0 4px 12px; white-space: pre-wrap; }
.metrics { display: flex; flex-wrap: wrap; gap: 4px 8px; } .metrics span { background: #f9fafb; border: 1px solid #e5e7eb; border-radius: 4px; padding: 1px 6px; font-variant-numeric: tabular-nums; }
.metrics b { font-weight: 600; color: #374151; margin-right: 4px; }
.note { color: #6b7280; } .error { color: #b91c1c; white-space: pre-wrap; }
code { font-family: ui-monospace, monospace; font-size: 13px; }
`

const tableHtml = (table: ReportTable, level = "h4"): string => {
  const numeric = table.columns.map((_, index) => table.rows.length > 0 && table.rows.every((row) => typeof row[index] === "number" || row[index] === null))
  return [
    `<${level}>${escapeXml(table.title)}</${level}>`,
    '<div class="table"><table>',
    `<tr>${table.columns.map((column) => `<th>${escapeXml(column)}</th>`).join("")}</tr>`,
    ...table.rows.map((row) => `<tr>${table.columns.map((_, index) => `<td${numeric[index] ? ' class="num"' : ""}>${escapeXml(cellText(row[index] ?? null))}</td>`).join("")}</tr>`),
    "</table></div>",
    ...(table.note === undefined ? [] : [`<p class="note">${escapeXml(table.note)}</p>`])
  ].join("\n")
}

const samplesHtml = (group: SampleGroup): string => [
  `<h4>Samples: ${escapeXml(group.group)} (${group.samples.length})</h4>`,
  ...group.samples.map((fields) => `<dl class="sample">${fields.map((field) => `<dt>${escapeXml(field.name)}</dt><dd>${escapeXml(sampleText(field.value))}</dd>`).join("")}</dl>`)
].join("\n")

const stageHtml = (stage: StageReport): string => [
  `<section class="stage" id="stage-${escapeXml(stage.name)}">`,
  `<h3>${escapeXml(stage.name)} <span class="note">${escapeXml(stage.component)} · <span class="status-${stage.status}">${stage.status}</span></span></h3>`,
  ...(stage.error === undefined ? [] : [`<p class="error">${escapeXml(stage.error)}</p>`]),
  ...(stage.curves.length === 0 ? [] : [`<div class="charts">${stage.curves.map((curve) => curveSvg(curve, stage.name)).join("\n")}</div>`]),
  ...(stage.metrics.length === 0 ? [] : [
    "<h4>Metrics</h4>",
    `<div class="metrics">${stage.metrics.map((metric) => `<span><b>${escapeXml(metric.name)}</b> ${escapeXml(cellText(metric.value))}</span>`).join("")}</div>`
  ]),
  ...stage.tables.map((table) => tableHtml(table)),
  ...stage.samples.map(samplesHtml),
  "</section>"
].join("\n")

const listHtml = (title: string, items: ReadonlyArray<string>): string =>
  items.length === 0 ? "" : `<h2>${escapeXml(title)}</h2>\n<ul>${items.map((item) => `<li>${item}</li>`).join("")}</ul>`

/** The HTML page of a run report. */
export const reportHtml = (report: RunReport): string => {
  const { run } = report
  const stages = stageTable(report)
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Run report: ${escapeXml(run.id)}</title>`,
    `<style>${style}</style>`,
    "</head>",
    "<body><main>",
    `<h1>Run report: ${escapeXml(run.id)}</h1>`,
    `<p class="facts"><span>recipe <b>${escapeXml(run.recipe)}</b> (${escapeXml(run.recipeFile)})</span><span>status <b class="status-${run.status}">${run.status}</b></span>` +
      `<span>seed ${run.seed}</span><span>attempts ${run.attempts}</span><span>cache hits ${run.cacheHits}/${report.stages.length}</span>` +
      `<span>started ${escapeXml(run.startedAt)}${run.endedAt === undefined ? "" : `, ended ${escapeXml(run.endedAt)}`}</span>` +
      `${run.gitCommit === undefined ? "" : `<span>git ${escapeXml(run.gitCommit.slice(0, 12))}</span>`}</p>`,
    ...(run.error === undefined ? [] : [`<p class="error">${escapeXml(run.error)}</p>`]),
    listHtml("Outputs (paths relative to the run folder)", report.outputs.map((output) => `${output.kind} (${escapeXml(output.stage)}): <code>${escapeXml(output.path)}</code>`)),
    tableHtml(stages, "h2"),
    ...(report.resources.length === 0 ? [] : [tableHtml(resourceTable(report), "h2")]),
    ...(report.stages.some(hasDetails) ? ["<h2>Stage details</h2>", ...report.stages.filter(hasDetails).map(stageHtml)] : []),
    listHtml("Warnings", report.warnings.map((warning) => escapeXml(`${warning.stage === undefined ? "" : `${warning.stage}: `}${warning.message}`))),
    listHtml("Report problems", report.problems.map(escapeXml)),
    "</main></body>",
    "</html>",
    ""
  ].join("\n")
}
