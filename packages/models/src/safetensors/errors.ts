/**
 * Failures of reading and writing safetensors files, one class per failure
 * mode. Each names the file and says how to fix the problem.
 */
import { Schema } from "effect"

/** The file could not be opened, read or written (missing, permissions, disk). */
export class SafetensorsIoError extends Schema.TaggedError<SafetensorsIoError>()("SafetensorsIoError", {
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * The file is not a well-formed safetensors file: truncated, header length
 * implausible, header not JSON, a tensor entry malformed, byte ranges out of
 * the file or overlapping. `problem` is a short machine-readable kind.
 */
export class SafetensorsFormatError extends Schema.TaggedError<SafetensorsFormatError>()("SafetensorsFormatError", {
  path: Schema.String,
  problem: Schema.Literals(["Truncated", "HeaderTooLarge", "HeaderNotJson", "BadEntry", "OutOfBounds", "Overlap", "BadIndex"]),
  message: Schema.String
}) {}

/**
 * A tensor holds NaN or ±Inf values: a damaged or badly converted checkpoint, which would run
 * and produce garbage. Names the tensor, how many values and where the first one is.
 */
export class NonFiniteWeightsError extends Schema.TaggedError<NonFiniteWeightsError>()("NonFiniteWeightsError", {
  path: Schema.String,
  name: Schema.String,
  count: Schema.Number,
  message: Schema.String
}) {}

/** The file holds no tensor of the requested name. */
export class TensorNotFoundError extends Schema.TaggedError<TensorNotFoundError>()("TensorNotFoundError", {
  path: Schema.String,
  name: Schema.String,
  message: Schema.String
}) {}

/** The tensor's dtype cannot be converted to what the caller asked for (e.g. I64 to float32). */
export class UnsupportedDtypeError extends Schema.TaggedError<UnsupportedDtypeError>()("UnsupportedDtypeError", {
  path: Schema.String,
  name: Schema.String,
  dtype: Schema.String,
  message: Schema.String
}) {}

/** Every error the safetensors module can raise. */
export type SafetensorsError = SafetensorsIoError | SafetensorsFormatError | TensorNotFoundError | UnsupportedDtypeError | NonFiniteWeightsError
