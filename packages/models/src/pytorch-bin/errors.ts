/**
 * Failures of reading a PyTorch `.bin` checkpoint, one class per failure mode;
 * each names the file and says how to fix the problem.
 */
import { Schema } from "effect"

/** The file is not a readable zip archive (truncated, corrupt, compressed, zip64). */
export class TorchZipError extends Schema.TaggedError<TorchZipError>()("TorchZipError", {
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * The pickle asks for something other than rebuilding tensors (a global such
 * as `os.system`, an unknown opcode) or is malformed. Nothing in it was run.
 */
export class UnsafePickleError extends Schema.TaggedError<UnsafePickleError>()("UnsafePickleError", {
  path: Schema.String,
  message: Schema.String
}) {}

/** A tensor record is inconsistent with its storage (huge or negative shape, out-of-range view, wrong storage size). */
export class TorchTensorError extends Schema.TaggedError<TorchTensorError>()("TorchTensorError", {
  path: Schema.String,
  name: Schema.String,
  message: Schema.String
}) {}

export type TorchBinError = TorchZipError | UnsafePickleError | TorchTensorError
