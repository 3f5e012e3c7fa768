/**
 * The OpenAI layer on top of {@link SseDecoder}: every `data:` event is a JSON
 * chunk until `data: [DONE]`. A chunk that is not JSON, an in-stream
 * `{"error": ...}`, or input that ends before `[DONE]` fails with a typed
 * {@link SseError} naming the problem.
 *
 * @example
 * ```ts
 * import { OpenAiEventStream } from "@refine-af/openai"
 * const stream = new OpenAiEventStream()
 * const chunks = stream.push('data: {"choices":[]}\n\ndata: [DONE]\n\n')
 * stream.end() // throws SseError unless [DONE] was seen
 * ```
 */
import { SseDecoder } from "./decode.ts"
import { SseError } from "./errors.ts"

export class OpenAiEventStream {
  private readonly decoder = new SseDecoder()
  private done = false
  private chunks = 0

  /** True once `data: [DONE]` arrived. */
  get finished(): boolean {
    return this.done
  }

  /** Feeds bytes or text; returns the JSON chunks completed so far (events after `[DONE]` are ignored). */
  push(piece: Uint8Array | string): Array<unknown> {
    const out: Array<unknown> = []
    for (const event of this.decoder.push(piece)) {
      if (this.done) continue
      if (event.data.trim() === "[DONE]") {
        this.done = true
        continue
      }
      let value: unknown
      try {
        value = JSON.parse(event.data)
      } catch {
        throw new SseError({ reason: "Malformed", message: `Event ${this.chunks + 1} of the stream is not JSON: ${JSON.stringify(event.data.slice(0, 80))}.` })
      }
      if (typeof value === "object" && value !== null && "error" in value) {
        const error = (value as { error: unknown }).error
        const message = typeof error === "object" && error !== null && "message" in error ? String((error as { message: unknown }).message) : JSON.stringify(error)
        throw new SseError({ reason: "ServerError", message: `The server reported an error mid-stream: ${message}` })
      }
      this.chunks++
      out.push(value)
    }
    return out
  }

  /** Ends the input; fails unless the stream was complete. */
  end(): void {
    this.decoder.end()
    if (!this.done) throw new SseError({ reason: "Truncated", message: `The event stream ended after ${this.chunks} chunk(s) without data: [DONE]: the server or connection stopped early.` })
  }
}
