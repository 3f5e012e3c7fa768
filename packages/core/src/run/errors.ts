import { Schema } from "effect"

/** The folder given to `resume`/`inspect` is not a usable run directory. */
export class RunDirInvalid extends Schema.TaggedError<RunDirInvalid>()("RunDirInvalid", {
  dir: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** A file-system operation of the run engine failed (disk full, permissions, ...). */
export class RunIoError extends Schema.TaggedError<RunIoError>()("RunIoError", {
  path: Schema.String,
  message: Schema.String
}) {}

/** Turns a thrown file-system error into a `RunIoError`. */
export const ioError = (filePath: string) => (cause: unknown): RunIoError =>
  new RunIoError({ path: filePath, message: cause instanceof Error ? cause.message : String(cause) })
