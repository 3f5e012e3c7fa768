import { Schema } from "effect"

/**
 * A max-over-references metric got an empty reference list. The official Python code raises
 * `ValueError` from `max([])` here; silently returning 0 would hide a data bug.
 *
 * @example
 * ```ts
 * import { EmptyReferencesError } from "@refine-af/text"
 * const error = new EmptyReferencesError({ metric: "rougeLMax", message: "no references" })
 * ```
 */
export class EmptyReferencesError extends Schema.TaggedError<EmptyReferencesError>()("EmptyReferencesError", {
  metric: Schema.String,
  message: Schema.String
}) {}

/** A RougePool option is out of range (threshold not in [0, 1], topK or workers not a positive integer). */
export class InvalidPoolOptionError extends Schema.TaggedError<InvalidPoolOptionError>()("InvalidPoolOptionError", {
  option: Schema.String,
  message: Schema.String
}) {}

/** A RougePool worker thread failed or exited early; the pool cannot answer the query. */
export class PoolWorkerError extends Schema.TaggedError<PoolWorkerError>()("PoolWorkerError", {
  message: Schema.String
}) {}

/** Builds the error for an empty reference list, naming the metric and the fix. */
export const emptyReferences = (metric: string): EmptyReferencesError =>
  new EmptyReferencesError({
    metric,
    message: `${metric} needs at least one reference, got an empty list. ` +
      "Drop the example or give it a reference (an empty string is a valid reference)."
  })
