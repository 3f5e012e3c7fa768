/** Failures of writing a seeded tiny model folder, one class per failure mode. */
import { Schema } from "effect"

/** The tiny model's config is unusable (unknown preset, missing numeric field). */
export class TinyModelConfigError extends Schema.TaggedError<TinyModelConfigError>()("TinyModelConfigError", {
  message: Schema.String
}) {}

/** The model folder could not be written (permissions, disk full, missing tokenizer package). */
export class TinyModelWriteError extends Schema.TaggedError<TinyModelWriteError>()("TinyModelWriteError", {
  folder: Schema.String,
  message: Schema.String
}) {}
