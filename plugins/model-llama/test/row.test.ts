import type { GenerationChunk } from "@refine-af/core"
import { describe, expect, it } from "vitest"
import { GenerationRow } from "../src/index.ts"

// A character tokenizer: id i is the letter "a" + i; id 26 is end-of-sequence.
const tokenizer = { decode: (ids: ReadonlyArray<number>) => ids.filter((id) => id < 26).map((id) => String.fromCharCode(97 + id)).join("") }
const oneHot = (id: number) => {
  const logits = new Float32Array(27).fill(-10)
  logits[id] = 10
  return logits
}
const letters = (text: string) => [...text].map((c) => c.charCodeAt(0) - 97)

const drive = (tokens: ReadonlyArray<number>, stop: ReadonlyArray<string>, budget = 100) => {
  const chunks: Array<GenerationChunk> = []
  const row = new GenerationRow([0], { maxNewTokens: budget, temperature: 0, stop }, budget, tokenizer, new Set([26]), (c) => chunks.push(c))
  for (const token of tokens) {
    if (row.finish !== null) break
    row.accept(oneHot(token))
  }
  return { result: row.result(), streamed: chunks.map((c) => c.text) }
}

describe("a generating row", () => {
  it("stops before a stop string and never streams past it", () => {
    const { result, streamed } = drive(letters("abcde"), ["cd"])
    expect(result.finishReason).toBe("stop")
    expect(result.text).toBe("ab")
    expect(result.tokenIds).toEqual(letters("abcd"))
    expect(streamed).toEqual(["a", "b", "", ""])
  })
  it("holds back a possible stop prefix and releases it when the match fails", () => {
    const { result, streamed } = drive(letters("abcxy"), ["cd"], 5)
    expect(result.finishReason).toBe("length")
    expect(streamed).toEqual(["a", "b", "", "cx", "y"])
    expect(streamed.join("")).toBe(result.text)
  })
  it("flushes held-back text at end of sequence and at the budget", () => {
    const eos = drive([...letters("abc"), 26], ["cd"])
    expect(eos.result.finishReason).toBe("eos")
    expect(eos.streamed.join("")).toBe("abc")
    const length = drive(letters("abc"), ["cd"], 3)
    expect(length.result.finishReason).toBe("length")
    expect(length.streamed.join("")).toBe("abc")
  })
  it("finds a stop string that spans several tokens", () => {
    const { result, streamed } = drive(letters("xyinputz"), ["input"])
    expect(result.text).toBe("xy")
    expect(streamed.join("")).toBe("xy")
  })
})
