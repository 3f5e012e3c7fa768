/**
 * What a stage may leave for the run report, and where. Every file is optional; a stage that
 * writes none still gets its row in the stage table and its metrics.
 *
 * - `curves.jsonl` in the stage folder: one JSON object per line, `{ "step": n, "<name>": value, … }`;
 *   every numeric field but `step` is one curve (drawn against `step`; `null` leaves a gap).
 * - `samples.jsonl` in the stage folder: one example per line, `{ "group": "accepted", … }`;
 *   the other fields are shown in order (strings as text, numbers, `{ name: number }` objects as a
 *   breakdown, anything else as compact JSON).
 * - `tables.json` in the stage folder: `{ "tables": [{ "title", "columns", "rows", "note"? }] }`.
 * - `data.report` of the stage's summary (kept in the manifest, not hashed): `{ tables?, samples? }`
 *   in the same shapes, for material about how the stage ran that may differ after a resume
 *   (e.g. what filters rejected), which must not change the stage's output hash.
 *
 * Files in the stage folder are part of its output (hashed and cached): write them only from
 * deterministic data (e.g. the stage's own records), at the end of the stage.
 */
import { Schema } from "effect"

/** File names of the report conventions inside a stage folder. */
export const reportFiles = {
  curves: "curves.jsonl",
  samples: "samples.jsonl",
  tables: "tables.json"
} as const

/** One line of `curves.jsonl`: a step and the value of each curve at that step. */
export const CurvePoint = Schema.Record(Schema.String, Schema.NullOr(Schema.Number))
export type CurvePoint = typeof CurvePoint.Type

/** A cell of a report table. */
export const TableCell = Schema.Union([Schema.String, Schema.Number, Schema.Null])
export type TableCell = typeof TableCell.Type

/** A titled table: columns and rows of cells (numbers are formatted by the report). */
export const ReportTable = Schema.Struct({
  title: Schema.String,
  columns: Schema.Array(Schema.String),
  rows: Schema.Array(Schema.Array(TableCell)),
  note: Schema.optionalKey(Schema.String)
})
export type ReportTable = typeof ReportTable.Type

/** `tables.json` in a stage folder. */
export const TablesFile = Schema.Struct({ tables: Schema.Array(ReportTable) })
export type TablesFile = typeof TablesFile.Type

/** One line of `samples.jsonl`: the group it belongs to and any JSON fields. */
export type SampleInput = { readonly group: string; readonly [field: string]: unknown }

/** `data.report` of a stage summary: tables and samples that are not part of the output. */
export const StageReportData = Schema.Struct({
  tables: Schema.optionalKey(Schema.Array(ReportTable)),
  samples: Schema.optionalKey(Schema.Array(Schema.Record(Schema.String, Schema.Unknown)))
})
export type StageReportData = typeof StageReportData.Type
