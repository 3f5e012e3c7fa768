import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { exactMatch } from "@refine-af/text"
import { cleanPrediction, makePromptEncoder, type SuperNiTask } from "../src/index.ts"

const task: SuperNiTask = {
  name: "toy",
  definition: "  Translate the number word into digits ",
  category: "Data to Text",
  positiveExamples: [
    { input: "seven", output: "7" },
    { input: "twelve", output: "12" },
    { input: "forty", output: "40" }
  ],
  instances: []
}
const instance = { id: "1", input: " three {definition} ", output: ["3"] }

describe("prompt encodings", () => {
  it("zero-shot: definition (with a full stop added) then the instance, in the SuperNI layout", () => {
    const encode = Effect.runSync(makePromptEncoder({ positiveExamples: 0 }))
    expect(encode(task, instance)).toBe(
      "Definition: Translate the number word into digits.\n\nNow complete the following example -\nInput: three {definition}\nOutput:"
    )
  })

  it("few-shot: the first k positive examples, numbered, before the instance", () => {
    const encode = Effect.runSync(makePromptEncoder({ positiveExamples: 2 }))
    expect(encode(task, instance)).toBe(
      "Definition: Translate the number word into digits.\n\n" +
        "Example 1 -\nInput: seven\nOutput: 7\n\n" +
        "Example 2 -\nInput: twelve\nOutput: 12\n\n" +
        "Now complete the following example -\nInput: three {definition}\nOutput:"
    )
  })

  it("uses every example a task has when k exceeds it", () => {
    const encode = Effect.runSync(makePromptEncoder({ positiveExamples: 10 }))
    expect(encode(task, instance).match(/Example \d -/g)).toHaveLength(3)
  })

  it("accepts overridden templates", () => {
    const encode = Effect.runSync(
      makePromptEncoder({
        positiveExamples: 1,
        promptTemplate: "### Task\n{definition}\n{examples}### Input\n{input}\n### Answer\n",
        exampleTemplate: "({index}) {input} => {output}\n"
      })
    )
    expect(encode(task, instance)).toBe(
      "### Task\nTranslate the number word into digits.\n(1) seven => 7\n### Input\nthree {definition}\n### Answer\n"
    )
  })

  it.each([
    [{ positiveExamples: 0, promptTemplate: "Definition: {definition} Output:" }, "missing placeholder(s) {input}"],
    [{ positiveExamples: 2, promptTemplate: "{definition} {input}" }, "missing placeholder(s) {examples}"],
    [{ positiveExamples: 0, promptTemplate: "{definition} {input} {instruction}" }, "unknown placeholder(s) {instruction}"],
    [{ positiveExamples: 1, exampleTemplate: "{input}" }, "missing placeholder(s) {output}"]
  ])("rejects a template that cannot work: %j", (options, message) => {
    const error = Effect.runSync(Effect.flip(makePromptEncoder(options)))
    expect(error._tag).toBe("TemplateInvalid")
    expect(error.message).toBe(message)
  })
})

describe("cleanPrediction", () => {
  it("cuts at the earliest stop string and trims", () => {
    expect(cleanPrediction(" Yes\n\nInput: more", ["\nInput:", "\n\n"])).toBe("Yes")
    expect(cleanPrediction("  no stop here  ", ["\n\n"])).toBe("no stop here")
    expect(cleanPrediction("keep", [""])).toBe("keep")
  })

  it("strips only Python's whitespace set, so a BOM-led prediction scores as the official scorer does", () => {
    // Python: "\ufeffYes \n".strip() == "\ufeffYes"; " \x85a\u200b\x1c ".strip() == "a\u200b"
    expect(cleanPrediction("\ufeffYes \n", [])).toBe("\ufeffYes")
    expect(cleanPrediction(" \u0085a\u200b\u001c ", [])).toBe("a\u200b")
    // the official exact match keeps the BOM (Python's split() does not split on it): no match
    expect(exactMatch(cleanPrediction("\ufeffYes", []), ["Yes"])).toBe(0)
    expect(exactMatch(cleanPrediction("\u3000Yes\u0085", []), ["Yes"])).toBe(1)
  })
})
