/**
 * The shape of `manifest.json`, checked when a manifest is read back (`inspect`, `resume`,
 * `compare`): a hand-edited, truncated or `null` manifest is reported with the first wrong
 * field instead of surfacing later as a TypeError. Unknown keys are allowed (newer versions
 * may add some).
 */
import { Result, Schema, SchemaIssue } from "effect"

const RunStatusSchema = Schema.Literals(["running", "completed", "failed", "interrupted"])
const StageStatusSchema = Schema.Literals(["pending", "running", "completed", "cached", "failed", "interrupted"])
const Metrics = Schema.Record(Schema.String, Schema.Number)

const StageSchema = Schema.Struct({
  status: StageStatusSchema,
  componentId: Schema.String,
  version: Schema.String,
  cacheKey: Schema.String,
  inputs: Schema.optionalKey(Schema.Record(Schema.String, Schema.Union([Schema.String, Schema.mutable(Schema.Array(Schema.String))]))),
  uses: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  outputHash: Schema.optionalKey(Schema.String),
  records: Schema.optionalKey(Schema.Number),
  startedAt: Schema.optionalKey(Schema.String),
  endedAt: Schema.optionalKey(Schema.String),
  durationMs: Schema.optionalKey(Schema.Number),
  metrics: Schema.optionalKey(Metrics),
  data: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  error: Schema.optionalKey(Schema.String)
})

/** Schema of a run's `manifest.json` (the fields the CLI and the run engine read). */
export const RunManifestSchema = Schema.Struct({
  formatVersion: Schema.Literal(1),
  runId: Schema.String,
  name: Schema.String,
  recipeFile: Schema.String,
  recipeDir: Schema.optionalKey(Schema.String),
  status: RunStatusSchema,
  seed: Schema.Number,
  core: Schema.Struct({ name: Schema.String, version: Schema.String }),
  plugins: Schema.Array(Schema.Struct({
    name: Schema.String,
    specifier: Schema.String,
    packageName: Schema.String,
    packageVersion: Schema.String
  })),
  node: Schema.String,
  hostname: Schema.String,
  platform: Schema.String,
  gitCommit: Schema.optionalKey(Schema.String),
  cacheDir: Schema.String,
  cacheEnabled: Schema.Boolean,
  startedAt: Schema.String,
  endedAt: Schema.optionalKey(Schema.String),
  attempts: Schema.Array(Schema.Struct({
    startedAt: Schema.String,
    endedAt: Schema.optionalKey(Schema.String),
    status: RunStatusSchema
  })),
  stages: Schema.Record(Schema.String, StageSchema),
  metrics: Schema.Record(Schema.String, Metrics),
  error: Schema.optionalKey(Schema.String)
})

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0 ? "the whole file" : path.map((segment) => typeof segment === "number" ? `[${segment}]` : `.${String(segment)}`).join("").replace(/^\./, "")

/**
 * Checks parsed manifest JSON; returns `undefined` when it has the expected shape, otherwise
 * a description of the first (at most three) wrong fields.
 */
export const manifestShapeProblem = (value: unknown): string | undefined => {
  const result = Schema.decodeUnknownResult(RunManifestSchema)(value, { errors: "all" })
  if (Result.isSuccess(result)) return undefined
  const issues = formatIssues(result.failure.issue).issues
  const shown = issues.slice(0, 3).map((issue) => `${pathText(issue.path as ReadonlyArray<PropertyKey>)}: ${issue.message}`)
  const more = issues.length > 3 ? `; and ${issues.length - 3} more` : ""
  return shown.join("; ") + more
}
