import { describe, expect, it } from "vitest"
import { defaultInstructionFilters, makeInstructionFilter } from "../src/index.ts"

const reject = makeInstructionFilter(defaultInstructionFilters)

describe("instruction filters (paper defaults)", () => {
  it("drops 3 words or fewer and more than 150 words", () => {
    expect(reject("Name a fruit")).toBe("too_short")
    expect(reject("Name a red fruit")).toBeUndefined()
    expect(reject(`Say ${"word ".repeat(149)}`.trim())).toBeUndefined() // 150 words
    expect(reject(`Say ${"word ".repeat(150)}`.trim())).toBe("too_long") // 151 words
  })

  it("a 10k-character single token counts as one word", () => {
    expect(reject("y".repeat(10_000))).toBe("too_short")
  })

  it("drops blacklisted keywords as whole words, case-insensitively", () => {
    for (const text of [
      "Describe the IMAGE in detail please",
      "Plot the sales numbers by month",
      "Make a map of the building",
      "Tell me how to go to the station",
      "Read the files and summarise them"
    ]) {
      expect(reject(text), text).toBe("blacklisted_keyword")
    }
    // Substrings of other words are fine: "imagine", "mapping", "profile", "plotting".
    expect(reject("Imagine a mapping between profiles and plotting devices")).toBeUndefined()
  })

  it('drops instructions starting with "Write a program", in any case', () => {
    expect(reject("Write a program that sorts numbers")).toBe("forbidden_prefix")
    expect(reject("write a program that sorts numbers")).toBe("forbidden_prefix")
    expect(reject("Write a poem about programs")).toBeUndefined()
  })

  it("drops a leading ASCII punctuation character and a leading non-ASCII character", () => {
    expect(reject('"Quote the famous speech here"')).toBe("leading_punctuation")
    expect(reject("- List four seasons here")).toBe("leading_punctuation")
    expect(reject("¿Cuál es tu color favorito?")).toBe("leading_non_ascii")
    expect(reject("Éxplain the french word here")).toBe("leading_non_ascii")
    expect(reject("日本語 の 文 を 翻訳")).toBe("leading_non_ascii")
  })

  it("applies the filters in the paper's order (length before keywords before prefix)", () => {
    expect(reject("Draw a map")).toBe("too_short")
    expect(reject("Write a program to draw a picture")).toBe("blacklisted_keyword")
    expect(reject("- Write a program for me")).toBe("leading_punctuation")
  })

  it("honours custom thresholds and lists", () => {
    const custom = makeInstructionFilter({ minWords: 2, maxWords: 3, blacklist: ["banana split"], forbiddenPrefixes: [] })
    expect(custom("Hi")).toBe("too_short")
    expect(custom("Eat a banana split")).toBe("too_long")
    expect(custom("Banana split now")).toBe("blacklisted_keyword")
    expect(custom("Write a program")).toBeUndefined()
  })
})
