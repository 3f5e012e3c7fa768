/**
 * Typed failures of the SuperNI evaluator, one class per failure mode. Each
 * carries the offending path and a `fix` the user can act on.
 */
import { Schema } from "effect"

/** A task file, task directory, split file or JSONL set does not exist or cannot be read. */
export class EvalDataMissing extends Schema.TaggedError<EvalDataMissing>()("EvalDataMissing", {
  path: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** A task file or JSONL line is not valid JSON or lacks a required SuperNI field. */
export class EvalDataMalformed extends Schema.TaggedError<EvalDataMalformed>()("EvalDataMalformed", {
  path: Schema.String,
  /** 1-based line for JSONL inputs; absent for whole-file JSON. */
  line: Schema.optional(Schema.Number),
  message: Schema.String,
  fix: Schema.String
}) {}

/** A prompt template lacks a required placeholder or uses an unknown one. */
export class TemplateInvalid extends Schema.TaggedError<TemplateInvalid>()("TemplateInvalid", {
  template: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** Two runs to compare do not share any (task, instance) pair, or a prediction record is unreadable. */
export class PredictionsMismatch extends Schema.TaggedError<PredictionsMismatch>()("PredictionsMismatch", {
  message: Schema.String,
  fix: Schema.String
}) {}

/** A run directory given to `compare` has no finished SuperNI evaluation stage. */
export class RunDirInvalid extends Schema.TaggedError<RunDirInvalid>()("RunDirInvalid", {
  path: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** Writing a report artifact failed. */
export class ReportWriteFailed extends Schema.TaggedError<ReportWriteFailed>()("ReportWriteFailed", {
  path: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** The model's context cannot hold any prompt once the output budget is reserved. */
export class ContextTooSmall extends Schema.TaggedError<ContextTooSmall>()("ContextTooSmall", {
  model: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}
