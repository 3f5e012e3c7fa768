import { describe, expect, it } from "vitest"
import { rougeTokenize } from "../src/index.ts"

describe("rougeTokenize (rouge_score default tokenizer)", () => {
  it.each([
    ["It's an e-mail!", ["it", "s", "an", "e", "mail"], "apostrophes and hyphens split tokens"],
    ["  Hello,   WORLD  ", ["hello", "world"], "case folded, edge separators dropped"],
    ["1,000 items in 2024", ["1", "000", "items", "in", "2024"], "digits are token characters, commas split"],
    ["covid19 x2", ["covid19", "x2"], "letters and digits stay together"],
    ["a\u00a0b\u2003c\u200bd\ufeffe\u0085f", ["a", "b", "c", "d", "e", "f"], "any non a-z0-9 character separates, zero-width ones included"],
    ["snake_case and dot.separated", ["snake", "case", "and", "dot", "separated"], "underscore and dot separate"],
    ["café", ["caf"], "NFC é is not ASCII: dropped, no normalization"],
    ["cafe\u0301", ["cafe"], "NFD e + combining accent keeps the e"],
    ["\u0130stanbul", ["i", "stanbul"], "U+0130 lowercases to i + U+0307 (Python and JS alike)"],
    ["\u212Aelvin", ["kelvin"], "KELVIN SIGN lowercases to ASCII k before the filter"],
    ["x\u00b2 \uff13 \u0663", ["x"], "superscripts, fullwidth and Arabic-Indic digits are dropped"],
    ["😀 emoji", ["emoji"], "astral characters separate"],
    ["", [], "empty text"],
    ["...!?", [], "punctuation only"]
  ])("%j → %j (%s)", (text, tokens) => {
    expect(rougeTokenize(text)).toEqual(tokens)
  })

  it("stems only tokens longer than 3 characters", () => {
    expect(rougeTokenize("was this running ran runs", { stem: true })).toEqual(["was", "thi", "run", "ran", "run"])
  })

  it("stems digits and mixed tokens", () => {
    expect(rougeTokenize("1990s covid19s", { stem: true })).toEqual(["1990", "covid19"])
  })

  it("does not stem unless asked", () => {
    expect(rougeTokenize("running dogs")).toEqual(["running", "dogs"])
  })
})
