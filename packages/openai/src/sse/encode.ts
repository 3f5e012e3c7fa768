/**
 * SSE framing for the server side: each event is `data: <json>` and a blank
 * line; the stream ends with `data: [DONE]`.
 *
 * @example
 * ```ts
 * import { sseData, SSE_DONE } from "@refine-af/openai"
 * const wire = sseData({ choices: [] }) + SSE_DONE
 * ```
 */

/** One `data:` event carrying `value` as JSON (JSON never contains a raw newline, so one line suffices). */
export const sseData = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`

/** A comment line; clients ignore it (used as a keep-alive). */
export const sseComment = (text: string): string => `: ${text.replace(/[\r\n]+/g, " ")}\n\n`

/** The OpenAI end-of-stream sentinel. */
export const SSE_DONE = "data: [DONE]\n\n"
