/** Failures of loading a Hugging Face model folder, one class per failure mode. */
import { Schema } from "effect"

/** A required file is missing from the model folder; `found` lists what is there. */
export class ModelFolderError extends Schema.TaggedError<ModelFolderError>()("ModelFolderError", {
  folder: Schema.String,
  missing: Schema.Array(Schema.String),
  found: Schema.Array(Schema.String),
  message: Schema.String
}) {}

/** `config.json` names an architecture this plugin does not implement. */
export class UnsupportedArchitectureError extends Schema.TaggedError<UnsupportedArchitectureError>()("UnsupportedArchitectureError", {
  path: Schema.String,
  modelType: Schema.String,
  supported: Schema.Array(Schema.String),
  message: Schema.String
}) {}

/** `config.json` / `generation_config.json` is unreadable or has missing or invalid fields; `problems` lists each one. */
export class InvalidConfigError extends Schema.TaggedError<InvalidConfigError>()("InvalidConfigError", {
  path: Schema.String,
  problems: Schema.Array(Schema.String),
  message: Schema.String
}) {}

/** The tokenizer could not be loaded or run. */
export class TokenizerError extends Schema.TaggedError<TokenizerError>()("TokenizerError", {
  folder: Schema.String,
  message: Schema.String
}) {}
