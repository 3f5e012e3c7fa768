/**
 * An incremental server-sent-events decoder (the WHATWG event-stream format):
 * feed it bytes or text in any pieces — a multi-byte character or a line may
 * be split across network chunks — and it returns the events completed so
 * far. Lines end in `\n`, `\r\n` or `\r`; several `data:` lines of one event
 * are joined with `\n`; comments and unknown fields are skipped. `end()` fails
 * with a `Truncated` {@link SseError} when the input stopped inside an event.
 *
 * @example
 * ```ts
 * import { SseDecoder } from "@refine-af/openai"
 * const decoder = new SseDecoder()
 * const events = decoder.push("data: {\"a\":1}\n\nda")
 * // events: [{ event: "message", data: "{\"a\":1}" }]; "da" waits for more input
 * ```
 */
import { SseError } from "./errors.ts"

/** One dispatched event. */
export interface SseEvent {
  readonly event: string
  readonly data: string
  readonly id?: string
}

export class SseDecoder {
  private readonly text = new TextDecoder("utf-8")
  private buffer = ""
  private data: Array<string> = []
  private event = ""
  private id: string | undefined
  private pendingCr = false

  /** Feeds the next piece of the stream; returns the events it completed. */
  push(chunk: Uint8Array | string): Array<SseEvent> {
    let piece = typeof chunk === "string" ? chunk : this.text.decode(chunk, { stream: true })
    // A "\r" that ended the previous piece already ended its line; a "\n" right after it belongs to it.
    if (this.pendingCr && piece.startsWith("\n")) piece = piece.slice(1)
    this.pendingCr = false
    this.buffer += piece
    const events: Array<SseEvent> = []
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer)
      if (match === null) break
      // A lone "\r" at the very end may be the first half of "\r\n".
      if (match[0] === "\r" && match.index === this.buffer.length - 1) {
        this.pendingCr = true
        this.line(this.buffer.slice(0, match.index), events)
        this.buffer = ""
        break
      }
      this.line(this.buffer.slice(0, match.index), events)
      this.buffer = this.buffer.slice(match.index + match[0].length)
    }
    return events
  }

  /** Marks the end of input; fails if an event or line was left unfinished. */
  end(): Array<SseEvent> {
    const tail = this.text.decode()
    if (tail.length > 0) this.buffer += tail
    if (this.buffer.length > 0 || this.data.length > 0) {
      const partial = (this.data.join("\n") + this.buffer).slice(0, 80)
      this.buffer = ""
      this.data = []
      throw new SseError({ reason: "Truncated", message: `The event stream ended inside an event (${JSON.stringify(partial)}...): the connection was cut before the event's closing blank line.` })
    }
    return []
  }

  private line(line: string, events: Array<SseEvent>): void {
    if (line === "") {
      if (this.data.length > 0) events.push({ event: this.event || "message", data: this.data.join("\n"), ...(this.id === undefined ? {} : { id: this.id }) })
      this.data = []
      this.event = ""
      return
    }
    if (line.startsWith(":")) return
    const colon = line.indexOf(":")
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? "" : line.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    if (field === "data") this.data.push(value)
    else if (field === "event") this.event = value
    else if (field === "id") this.id = value
  }
}
