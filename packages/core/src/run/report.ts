/**
 * The stage and resource tables `refine-af run`, `resume` and `inspect` print (the run
 * report files are written by `../report/`).
 */
import type { RunManifest } from "./manifest.ts"

const formatMs = (ms: number | undefined) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(1)}s`)

const formatMetrics = (metrics: Readonly<Record<string, number>> | undefined) =>
  metrics === undefined ? "" : Object.entries(metrics).map(([name, value]) => `${name}=${Number.isInteger(value) ? value : value.toFixed(4)}`).join(" ")

/** Rows of the stage table: stage, component, status, records, duration, metrics. */
export const stageRows = (manifest: RunManifest): Array<ReadonlyArray<string>> =>
  Object.entries(manifest.stages).map(([name, stage]) => [
    name,
    stage.componentId,
    stage.status,
    String(stage.records ?? "-"),
    formatMs(stage.durationMs),
    formatMetrics(stage.metrics)
  ])

/** Header of the resource table. */
export const resourceTableHeader = ["resource", "component", "built from", "uses", "made"] as const

/** Rows of the resource table (empty when the manifest records none). */
export const resourceRows = (manifest: RunManifest): Array<ReadonlyArray<string>> =>
  Object.entries(manifest.resources ?? {}).map(([name, resource]) => [
    name,
    resource.componentId,
    (resource.builtFrom ?? []).join(", ") || "-",
    (resource.uses ?? []).join(", ") || "-",
    resource.made === true ? "yes" : "no"
  ])

/** A fixed-width text table. */
export const textTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n")
}

/** Header of the stage table. */
export const stageTableHeader = ["stage", "component", "status", "records", "time", "metrics"] as const
