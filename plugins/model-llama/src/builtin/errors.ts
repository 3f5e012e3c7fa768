/** Failures of choosing the model source of `llama/hf`. */
import { Schema } from "effect"

/** `llama/hf` was given neither or both of `path` and `builtin`, or its built-in model could not be written. */
export class ModelSourceError extends Schema.TaggedError<ModelSourceError>()("ModelSourceError", {
  message: Schema.String,
  fix: Schema.String
}) {}
