/**
 * Typed failures of a {@link Backend}, one per failure mode. Each message says
 * what went wrong and how to fix it.
 */
import { Schema } from "effect"

/** The program uses an op / dtype combination this backend cannot compile. */
export class UnsupportedOpError extends Schema.TaggedError<UnsupportedOpError>()("UnsupportedOpError", {
  backend: Schema.String,
  op: Schema.String,
  message: Schema.String
}) {}

/**
 * Compiling or loading the program failed (the runtime rejected the model).
 * `prepackUnserved`: compiled with `CompileOptions.servedPrepackOnly`, the
 * executable would have pre-packed this many bytes of stored weights in its
 * own memory (the backend could not serve their pre-packed forms from files);
 * nothing was loaded.
 */
export class BackendCompileError extends Schema.TaggedError<BackendCompileError>()("BackendCompileError", {
  backend: Schema.String,
  message: Schema.String,
  prepackUnserved: Schema.optional(Schema.Number)
}) {}

/** A run was given a missing, unknown or mis-shaped feed. */
export class BackendFeedError extends Schema.TaggedError<BackendFeedError>()("BackendFeedError", {
  backend: Schema.String,
  name: Schema.String,
  message: Schema.String
}) {}

/** The runtime failed while executing a compiled program. */
export class BackendRunError extends Schema.TaggedError<BackendRunError>()("BackendRunError", {
  backend: Schema.String,
  message: Schema.String
}) {}

/** A device tensor was used after `release`, or handed to a backend that does not own it. */
export class DeviceTensorError extends Schema.TaggedError<DeviceTensorError>()("DeviceTensorError", {
  backend: Schema.String,
  message: Schema.String
}) {}

/** Any backend failure. */
export type BackendError = UnsupportedOpError | BackendCompileError | BackendFeedError | BackendRunError | DeviceTensorError
