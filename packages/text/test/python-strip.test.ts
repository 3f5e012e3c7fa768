import { describe, expect, it } from "vitest"
import { pythonStrip } from "../src/index.ts"

// Expected values written from CPython 3: `s.strip()` with no argument.
describe("pythonStrip", () => {
  it("keeps a byte-order mark, which JavaScript trim() removes", () => {
    expect("\ufeffYes ".trim()).toBe("Yes")
    expect(pythonStrip("\ufeffYes ")).toBe("\ufeffYes")
  })
  it("removes the separators Python counts as whitespace and JavaScript does not", () => {
    expect(pythonStrip("\u001c\u001d\u001e\u001f\u0085 a b \u0085")).toBe("a b")
  })
  it("keeps zero-width space and U+180E at the edges, and inner whitespace", () => {
    expect(pythonStrip("\u200ba\t b\u180e")).toBe("\u200ba\t b\u180e")
    expect(pythonStrip(" \u3000\u2029 ")).toBe("")
  })
})
