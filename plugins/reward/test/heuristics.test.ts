import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { bracketsBalanced, copiesInput, formatValid, heuristicScore, makeHeuristicsScorer, repetition } from "../src/index.ts"

describe("heuristic measures", () => {
  it("counts repeated n-grams", () => {
    // 3-grams of "a b c a b c a b c": abc bca cab abc bca cab abc → 4 of 7 repeat an earlier one
    expect(repetition("a b c a b c a b c", 3)).toBeCloseTo(4 / 7, 12)
    expect(repetition("one two three four", 3)).toBe(0)
    expect(repetition("too short", 3)).toBe(0)
  })

  it("checks brackets, control characters, JSON and single lines", () => {
    expect(bracketsBalanced("f(a[1], {b: \")\"})")).toBe(true)
    expect(bracketsBalanced("f(a[1)]")).toBe(false)
    expect(formatValid("fine (really)")).toBe(true)
    expect(formatValid("broken \u0007 bell")).toBe(false)
    expect(formatValid("bad \ufffd decode")).toBe(false)
    expect(formatValid("   ")).toBe(false)
    expect(formatValid('{"a": [1, 2]}', "json")).toBe(true)
    expect(formatValid("{a: 1}", "json")).toBe(false)
    expect(formatValid("one\ntwo", "single_line")).toBe(false)
  })

  it("detects copies of the input or instruction", () => {
    expect(copiesInput({ instruction: "Translate it.", input: "The Cat  sat.", output: "the cat sat." })).toBe(true)
    expect(copiesInput({ instruction: "Repeat after me: hello world", input: "", output: "Repeat after me: hello world" })).toBe(true)
    expect(copiesInput({ instruction: "Translate it.", input: "The cat sat.", output: "Le chat était assis." })).toBe(false)
  })
})

describe("reward/heuristics scorer", () => {
  it("reports every part and uses `pass` as the value by default", async () => {
    const scorer = makeHeuristicsScorer()
    const [good, empty, looped] = await Effect.runPromise(scorer.score([
      { instruction: "Name three fruits.", input: "", output: "Three fruits: apple, pear and plum." },
      { instruction: "Name three fruits.", input: "", output: "  " },
      { instruction: "Name three fruits.", input: "", output: "apple pear plum apple pear plum apple pear plum apple pear plum" }
    ]))
    expect(good).toEqual({ value: 1, parts: { words: 6, repetition: 0, format_valid: 1, overlap: good!.parts!["overlap"], empty: 0, copy: 0, pass: 1 } })
    expect(good!.parts!["overlap"]).toBeGreaterThan(0)
    expect(empty!.parts).toMatchObject({ words: 0, empty: 1, format_valid: 0, pass: 0 })
    expect(empty!.value).toBe(0)
    expect(looped!.parts!["repetition"]).toBeCloseTo(7 / 10, 12)
    expect(looped!.value).toBe(0)
  })

  it("reports the chosen part as value", () => {
    expect(heuristicScore({ instruction: "x", input: "", output: "a b c" }, { value: "words" }).value).toBe(3)
  })
})
