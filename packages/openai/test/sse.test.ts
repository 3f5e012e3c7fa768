import { describe, expect, it } from "vitest"
import { OpenAiEventStream, sseComment, sseData, SSE_DONE, SseDecoder, SseError } from "../src/index.ts"

const wire = sseComment("keep-alive") + sseData({ a: 1, s: "héllo ✓ 🚀" }) + "event: note\ndata: line one\ndata: line two\nid: 7\n\n" + SSE_DONE

const decodeIn = (pieces: ReadonlyArray<Uint8Array | string>) => {
  const decoder = new SseDecoder()
  const events = pieces.flatMap((piece) => decoder.push(piece))
  decoder.end()
  return events
}

describe("SseDecoder", () => {
  const expected = [
    { event: "message", data: JSON.stringify({ a: 1, s: "héllo ✓ 🚀" }) },
    { event: "note", data: "line one\nline two", id: "7" },
    { event: "message", data: "[DONE]", id: "7" }
  ]

  it("decodes a whole stream in one piece", () => {
    expect(decodeIn([wire])).toEqual(expected)
  })

  it("gives the same events when the bytes are split at every position (multi-byte characters included)", () => {
    const bytes = new TextEncoder().encode(wire)
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(decodeIn([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected)
    }
  })

  it("gives the same events byte by byte with CRLF and lone CR line endings", () => {
    for (const newline of ["\r\n", "\r"]) {
      const bytes = new TextEncoder().encode(wire.replaceAll("\n", newline))
      expect(decodeIn(Array.from(bytes, (b) => Uint8Array.of(b)))).toEqual(expected)
    }
  })

  it("reports a stream cut inside an event as Truncated", () => {
    const decoder = new SseDecoder()
    expect(decoder.push('data: {"a":1}\n\ndata: {"b"')).toHaveLength(1)
    expect(() => decoder.end()).toThrow(SseError)
    const cut = new SseDecoder()
    cut.push("data: complete line but no blank line\n")
    try {
      cut.end()
      expect.unreachable()
    } catch (error) {
      expect((error as SseError).reason).toBe("Truncated")
    }
  })
})

describe("OpenAiEventStream", () => {
  it("returns JSON chunks until [DONE] and ignores anything after it", () => {
    const stream = new OpenAiEventStream()
    const chunks = stream.push(sseData({ n: 1 }) + sseData({ n: 2 }) + SSE_DONE + sseData({ n: 3 }))
    expect(chunks).toEqual([{ n: 1 }, { n: 2 }])
    expect(stream.finished).toBe(true)
    expect(() => stream.end()).not.toThrow()
  })

  it("fails with Truncated when the stream ends without [DONE]", () => {
    const stream = new OpenAiEventStream()
    stream.push(sseData({ n: 1 }))
    expect(() => stream.end()).toThrow(/without data: \[DONE\]/)
  })

  it("fails with Malformed on an event that is not JSON, naming the event", () => {
    const stream = new OpenAiEventStream()
    try {
      stream.push(sseData({ n: 1 }) + "data: {not json\n\n")
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(SseError)
      expect((error as SseError).reason).toBe("Malformed")
      expect((error as SseError).message).toContain("Event 2")
    }
  })

  it("surfaces an in-stream error object as ServerError with the server's message", () => {
    const stream = new OpenAiEventStream()
    expect(() => stream.push(sseData({ error: { message: "out of memory", type: "server_error" } }))).toThrow(/out of memory/)
  })
})
