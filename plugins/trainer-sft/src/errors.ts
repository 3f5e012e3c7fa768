/**
 * Typed errors of the SFT stage (turned into `StageError`s at the stage edge).
 *
 * @example
 * ```ts
 * import { SftDataError } from "@refine-af/trainer-sft"
 * new SftDataError({ message: "record 3 has no \"output\"", fix: "give every record an output" })
 * ```
 */
import { Schema } from "effect"

/** The dataset is empty or a record is malformed / too long. */
export class SftDataError extends Schema.TaggedError<SftDataError>()("SftDataError", {
  message: Schema.String,
  fix: Schema.String
}) {}
