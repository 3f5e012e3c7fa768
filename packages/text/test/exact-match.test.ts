import { describe, expect, it } from "vitest"
import { EmptyReferencesError, exactMatch, normalizeAnswer } from "../src/index.ts"

describe("normalizeAnswer (Tk-Instruct)", () => {
  it.each([
    ["  The  Answer!! ", "the answer", "lowercase, ASCII punctuation deleted, whitespace collapsed"],
    ["The cat", "the cat", "articles are NOT removed"],
    ["e-mail", "email", "hyphen deleted, not a separator"],
    ["don\u2019t", "don\u2019t", "curly apostrophe is not ASCII punctuation"],
    ["\u00bfQu\u00e9? \u00abs\u00ed\u00bb \u2014 ok\u2026", "\u00bfqu\u00e9 \u00abs\u00ed\u00bb \u2014 ok\u2026", "non-ASCII punctuation survives"],
    ["a\u001cb\u001fc", "a b c", "Python splits on U+001C..U+001F"],
    ["a\u0085b", "a b", "Python splits on NEL U+0085"],
    ["a\u00a0b\u3000c\u2028d", "a b c d", "Unicode spaces and separators split"],
    ["a\ufeffb", "a\ufeffb", "BOM is not whitespace for Python"],
    ["a\u200bb", "a\u200bb", "zero-width space is not whitespace"],
    ["a\u180eb", "a\u180eb", "Mongolian vowel separator is not whitespace (Unicode ≥ 6.3)"],
    ["\u039f\u0394\u039f\u03a3", "\u03bf\u03b4\u03bf\u03c2", "final sigma in context"],
    ["", "", "empty"]
  ])("%j → %j (%s)", (input, expected) => {
    expect(normalizeAnswer(input)).toBe(expected)
  })
})

describe("exactMatch", () => {
  it.each([
    ["The", ["the"], 1],
    ["a cat", ["the cat"], 0],
    ["", [""], 1],
    ["...", ["!!!"], 1],
    ["it's", ["its"], 1],
    ["dont", ["don\u2019t"], 0],
    ["\ufeffyes", ["yes"], 0],
    ["no", ["yes", "No."], 1],
    ["maybe", ["yes", "no"], 0]
  ] as const)("%j vs %j → %d", (prediction, references, expected) => {
    expect(exactMatch(prediction, references)).toBe(expected)
  })

  it("rejects an empty reference list with a typed error", () => {
    expect(() => exactMatch("x", [])).toThrow(EmptyReferencesError)
  })
})
