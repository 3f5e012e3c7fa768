/**
 * The plugin's failure modes, one tagged error each. Every `message` names the
 * problem and the fix; stages turn them into the core's `StageError` at their
 * boundary (see `toStageError`).
 */
import { Schema } from "effect"
import { StageError } from "@refine-af/core"

/** A seed file could not be read (missing, a folder, no permission). */
export class SeedFileUnreadable extends Schema.TaggedError<SeedFileUnreadable>()("SeedFileUnreadable", {
  path: Schema.String,
  message: Schema.String
}) {}

/** One line of a seed JSONL file is not a valid seed task. */
export class SeedLineInvalid extends Schema.TaggedError<SeedLineInvalid>()("SeedLineInvalid", {
  path: Schema.String,
  line: Schema.Number,
  message: Schema.String
}) {}

/** The seed file as a whole is unusable (no tasks, duplicate ids). */
export class SeedSetInvalid extends Schema.TaggedError<SeedSetInvalid>()("SeedSetInvalid", {
  path: Schema.String,
  message: Schema.String
}) {}

/** A pinned seed URL could not be downloaded (no network, HTTP error). */
export class SeedDownloadFailed extends Schema.TaggedError<SeedDownloadFailed>()("SeedDownloadFailed", {
  url: Schema.String,
  message: Schema.String
}) {}

/** A downloaded seed file does not have the pinned sha256. */
export class SeedChecksumMismatch extends Schema.TaggedError<SeedChecksumMismatch>()("SeedChecksumMismatch", {
  url: Schema.String,
  expected: Schema.String,
  actual: Schema.String,
  message: Schema.String
}) {}

/** A prompt template file could not be read or lacks its placeholder. */
export class TemplateInvalid extends Schema.TaggedError<TemplateInvalid>()("TemplateInvalid", {
  path: Schema.String,
  message: Schema.String
}) {}

/** An upstream record lacks the fields this stage needs. */
export class InputRecordInvalid extends Schema.TaggedError<InputRecordInvalid>()("InputRecordInvalid", {
  index: Schema.Number,
  message: Schema.String
}) {}

/** Every error a stage of this plugin can raise before it becomes a `StageError`. */
export type SelfInstructError =
  | SeedFileUnreadable
  | SeedLineInvalid
  | SeedSetInvalid
  | SeedDownloadFailed
  | SeedChecksumMismatch
  | TemplateInvalid
  | InputRecordInvalid

/** Wraps any tagged failure (ours, the model's, the record stream's) as the core `StageError` of `stage`. */
export const toStageError =
  (stage: string) =>
  (error: { readonly _tag: string; readonly message: string; readonly fix?: string | undefined }): StageError =>
    new StageError({ stage, message: `${error._tag}: ${error.message}`, ...(error.fix ? { fix: error.fix } : {}) })
