/** `decodeTextFile`: a byte order mark is dropped, bytes that are not UTF-8 are refused with where they are. */
import { describe, expect, it } from "vitest"
import { decodeTextFile } from "../src/index.ts"

const bytes = (...parts: Array<string | Array<number>>) => Uint8Array.from(parts.flatMap((part) => (typeof part === "string" ? [...Buffer.from(part, "utf8")] : part)))

describe("decodeTextFile", () => {
  it("decodes UTF-8, multi-byte characters included, and drops a leading byte order mark", () => {
    expect(decodeTextFile(bytes("{\"a\":\"é → 🙂\"}\n"))).toEqual({ text: "{\"a\":\"é → 🙂\"}\n" })
    expect(decodeTextFile(bytes([0xef, 0xbb, 0xbf], "{}\n"))).toEqual({ text: "{}\n" })
    // Only a leading one: a U+FEFF inside the text is the text's.
    expect(decodeTextFile(bytes("a", [0xef, 0xbb, 0xbf]))).toEqual({ text: "a\ufeff" })
  })

  it("refuses bytes that are not UTF-8, naming the byte, its line and the bytes there", () => {
    const latin1 = decodeTextFile(bytes("{}\n{\"a\":\"caf", [0xe9], "\"}\n"))
    expect(latin1).toEqual({ problem: "is not UTF-8 text: byte 13 (line 2) starts \"\\xe9\\x22\\x7d\\x0a\"", fix: expect.stringContaining("UTF-8") })
    // After a byte order mark the byte number still counts from the file's start.
    expect(decodeTextFile(bytes([0xef, 0xbb, 0xbf], "x", [0xff, 0xfe]))).toMatchObject({ problem: expect.stringContaining("byte 5 (line 1)") })
    // An overlong form and a lone surrogate are not UTF-8 either.
    expect(decodeTextFile(bytes([0xc0, 0x80]))).toMatchObject({ problem: expect.stringContaining("byte 1") })
    expect(decodeTextFile(bytes("ab", [0xed, 0xa0, 0x80]))).toMatchObject({ problem: expect.stringContaining("byte 3") })
    // A sequence cut off by the end of the file.
    expect(decodeTextFile(bytes("ab", [0xe2, 0x86]))).toMatchObject({ problem: expect.stringContaining("byte 3") })
  })
})
