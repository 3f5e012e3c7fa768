import { Schema } from "effect"

/** Reading or writing a record stream failed (I/O, or a corrupt line that is not the torn tail of a crash). */
export class RecordStreamError extends Schema.TaggedError<RecordStreamError>()("RecordStreamError", {
  path: Schema.String,
  message: Schema.String
}) {}

/** A stage failed at run time. `fix` tells the user what to do. */
export class StageError extends Schema.TaggedError<StageError>()("StageError", {
  stage: Schema.String,
  message: Schema.String,
  fix: Schema.optional(Schema.String)
}) {}
