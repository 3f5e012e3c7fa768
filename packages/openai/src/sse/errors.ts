/**
 * Failures of a server-sent-events stream. `Truncated`: the connection ended
 * inside an event or before the `data: [DONE]` sentinel. `Malformed`: an
 * event's data is not the JSON the protocol promises. `ServerError`: the
 * server reported an error inside the stream (`data: {"error": ...}`).
 *
 * @example
 * ```ts
 * import { SseError } from "@refine-af/openai"
 * const error = new SseError({ reason: "Truncated", message: "the stream ended before data: [DONE]" })
 * ```
 */
import { Schema } from "effect"

export class SseError extends Schema.TaggedError<SseError>()("SseError", {
  reason: Schema.Literals(["Truncated", "Malformed", "ServerError"]),
  message: Schema.String
}) {}
