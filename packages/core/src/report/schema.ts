/**
 * The shape of `report.json`, the run report as data: the same content as `report.md` and
 * `report.html`, for other tools. Decode it with `decodeRunReport`.
 *
 * @example
 * ```ts
 * import * as fs from "node:fs"
 * import { decodeRunReport } from "@refine-af/core"
 * const report = decodeRunReport(JSON.parse(fs.readFileSync("runs/x/report.json", "utf8")))
 * report.stages.map((stage) => [stage.name, stage.status, stage.records])
 * ```
 */
import { Schema } from "effect"
import { ReportTable } from "./conventions.ts"

/** One curve of a stage: its name and its (step, value) points; `null` values are gaps. */
export const ReportCurve = Schema.Struct({
  name: Schema.String,
  points: Schema.Array(Schema.Struct({ step: Schema.Number, value: Schema.NullOr(Schema.Number) }))
})
export type ReportCurve = typeof ReportCurve.Type

/** A field of a sample: text, a number, a flag, a breakdown (`{ part: number }`) or compact JSON (as text). */
export const SampleValue = Schema.Union([
  Schema.String,
  Schema.Number,
  Schema.Boolean,
  Schema.Null,
  Schema.Record(Schema.String, Schema.NullOr(Schema.Number))
])
export type SampleValue = typeof SampleValue.Type

/** A group of samples (e.g. "accepted", "rejected", "rollouts"), each a list of named fields. */
export const SampleGroup = Schema.Struct({
  group: Schema.String,
  samples: Schema.Array(Schema.Array(Schema.Struct({ name: Schema.String, value: SampleValue })))
})
export type SampleGroup = typeof SampleGroup.Type

/** One stage of the run and what it left for the report. */
export const StageReport = Schema.Struct({
  name: Schema.String,
  component: Schema.String,
  status: Schema.Literals(["pending", "running", "completed", "cached", "failed", "interrupted"]),
  cacheHit: Schema.Boolean,
  records: Schema.NullOr(Schema.Number),
  durationMs: Schema.NullOr(Schema.Number),
  error: Schema.optionalKey(Schema.String),
  metrics: Schema.Array(Schema.Struct({ name: Schema.String, value: Schema.Number })),
  tables: Schema.Array(ReportTable),
  curves: Schema.Array(ReportCurve),
  samples: Schema.Array(SampleGroup)
})
export type StageReport = typeof StageReport.Type

/** Something a run produced: a dataset, an adapter, a model folder or a stage's own report (path relative to the run folder). */
export const ReportOutput = Schema.Struct({
  kind: Schema.Literals(["dataset", "adapter", "model", "report"]),
  stage: Schema.String,
  path: Schema.String
})
export type ReportOutput = typeof ReportOutput.Type

/** `report.json`. */
export const RunReport = Schema.Struct({
  formatVersion: Schema.Literal(1),
  run: Schema.Struct({
    id: Schema.String,
    recipe: Schema.String,
    recipeFile: Schema.String,
    status: Schema.Literals(["running", "completed", "failed", "interrupted"]),
    seed: Schema.Number,
    startedAt: Schema.String,
    endedAt: Schema.optionalKey(Schema.String),
    attempts: Schema.Number,
    cacheHits: Schema.Number,
    gitCommit: Schema.optionalKey(Schema.String),
    error: Schema.optionalKey(Schema.String)
  }),
  stages: Schema.Array(StageReport),
  /** The recipe's resources: what built them (stage outputs), what they use, whether this run made them. */
  resources: Schema.Array(Schema.Struct({
    name: Schema.String,
    component: Schema.String,
    builtFrom: Schema.Array(Schema.String),
    uses: Schema.Array(Schema.String),
    made: Schema.Boolean
  })),
  outputs: Schema.Array(ReportOutput),
  warnings: Schema.Array(Schema.Struct({ stage: Schema.optionalKey(Schema.String), message: Schema.String })),
  /** Report material that could not be read (a damaged `curves.jsonl`, …), so nothing is silently missing. */
  problems: Schema.Array(Schema.String)
})
export type RunReport = typeof RunReport.Type

/** Decodes parsed `report.json` (throws a descriptive error when the shape is wrong). */
export const decodeRunReport = (value: unknown): RunReport => Schema.decodeUnknownSync(RunReport)(value)
