import { describe, expect, it } from "vitest"
import { builtinTemplates, fillTemplate, filterInstances, parseInputFirst, parseOutputFirst } from "../src/index.ts"

describe("input-first parsing", () => {
  it("reads example 1 from the continuation start and later numbered examples", () => {
    const text = "Input: 3 apples and 4 apples\nOutput: 7 apples\nExample 2\nInput: 10 - 4\nOutput: 6\n\nExample 3:\nOutput: no input needed"
    expect(parseInputFirst(text)).toEqual({
      instances: [
        { input: "3 apples and 4 apples", output: "7 apples" },
        { input: "10 - 4", output: "6" },
        { input: "", output: "no input needed" }
      ],
      unparsable: 0
    })
  })

  it("keeps multi-line fields, and stops at a Task: line the model invented", () => {
    const text = "Input: line one\nline two\nOutput: first\nsecond\n\nTask: Something else\nExample 1\nInput: x\nOutput: y"
    expect(parseInputFirst(text).instances).toEqual([{ input: "line one\nline two", output: "first\nsecond" }])
  })

  it("counts blocks without an Output: marker as unparsable and handles empty text", () => {
    expect(parseInputFirst("just rambling\nExample 2\nInput: a")).toEqual({ instances: [], unparsable: 2 })
    expect(parseInputFirst("")).toEqual({ instances: [], unparsable: 0 })
  })
})

describe("output-first parsing", () => {
  it("reads the label first, then its input", () => {
    const text = " Positive\nInput: I loved every minute.\nClass label: Negative\nInput: Never again.\nClass label: Neutral"
    expect(parseOutputFirst(text)).toEqual({
      instances: [
        { input: "I loved every minute.", output: "Positive" },
        { input: "Never again.", output: "Negative" },
        { input: "", output: "Neutral" }
      ],
      unparsable: 0
    })
  })

  it("rejects empty and multi-line labels", () => {
    expect(parseOutputFirst(" \nInput: orphan input\nClass label: two\nlines").unparsable).toBe(2)
  })
})

describe("instance filters", () => {
  const options = { maxInstances: 3, maxInputWords: 5, maxOutputWords: 5 }

  it("drops empty outputs, outputs equal to inputs, over-long fields and duplicates, in that order", () => {
    const verdict = filterInstances(
      [
        { input: "a", output: "" },
        { input: "Same  Text", output: "same text" },
        { input: "one two three four five six", output: "x" },
        { input: "q", output: "one two three four five six" },
        { input: "k", output: "v" },
        { input: "K", output: "v " }
      ],
      options
    )
    expect(verdict.kept).toEqual([{ input: "k", output: "v" }])
    expect(verdict.rejected).toMatchObject({ empty_output: 1, same_as_input: 1, too_long: 2, duplicate: 1, conflicting_outputs: 0, over_limit: 0 })
  })

  it("drops the whole task when one input has two different outputs", () => {
    const verdict = filterInstances(
      [
        { input: "2+2", output: "4" },
        { input: "3+3", output: "6" },
        { input: "2+2", output: "5" }
      ],
      options
    )
    expect(verdict.kept).toEqual([])
    expect(verdict.rejected.conflicting_outputs).toBe(3)
  })

  it("keeps at most maxInstances, in order", () => {
    const pairs = ["a", "b", "c", "d", "e"].map((input) => ({ input, output: input.toUpperCase() + "!" }))
    const verdict = filterInstances(pairs, options)
    expect(verdict.kept.map((pair) => pair.input)).toEqual(["a", "b", "c"])
    expect(verdict.rejected.over_limit).toBe(2)
  })
})

describe("templates", () => {
  it("put the instruction on the last Task line and prime the first example or label", () => {
    const inputFirst = fillTemplate(builtinTemplates.inputFirst, "Reverse\n the   word.")
    expect(inputFirst.endsWith("\n\nTask: Reverse the word.\nExample 1\n")).toBe(true)
    const outputFirst = fillTemplate(builtinTemplates.outputFirst, "Is the number prime?")
    expect(outputFirst.endsWith("\n\nTask: Is the number prime?\nClass label:")).toBe(true)
  })

  it("their own few-shot examples parse with the stage's parsers", () => {
    const body = builtinTemplates.inputFirst.text.split("\n\n")[1]!
    const examples = body.slice(body.indexOf("Example 1\n") + "Example 1\n".length)
    expect(parseInputFirst(examples).instances).toEqual([
      { input: "25 degrees Celsius", output: "77 degrees Fahrenheit" },
      { input: "-10 degrees Celsius", output: "14 degrees Fahrenheit" }
    ])
    const labelled = builtinTemplates.outputFirst.text.split("\n\n")[1]!
    expect(parseOutputFirst(labelled.slice(labelled.indexOf("Class label:") + 12)).instances).toHaveLength(2)
  })
})
