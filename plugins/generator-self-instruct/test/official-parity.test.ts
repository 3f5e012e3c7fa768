/**
 * Parity of parsing + the cheap filters with the official Self-Instruct
 * post-processing, on golden outputs of the official Python code (see
 * test/golden/README.md). The official code lower-cases all but the first
 * character (`capitalize()`); we keep case, so texts compare case-folded.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { defaultInstructionFilters, encodeBootstrapPrompt, makeInstructionFilter, parseNumberedInstructions } from "../src/index.ts"

interface GoldenCase {
  readonly response: string
  readonly finish_reason: "stop" | "length"
  readonly kept: ReadonlyArray<string>
}

const readGolden = <A>(name: string): ReadonlyArray<A> =>
  readFileSync(new URL(`golden/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as A)

const cases = readGolden<GoldenCase>("official-post-process.jsonl")

const reject = makeInstructionFilter(defaultInstructionFilters)

describe("parity with the official post-processing", () => {
  it("has enough golden cases, with kept and dropped instructions", () => {
    expect(cases.length).toBeGreaterThanOrEqual(100)
    expect(cases.reduce((sum, c) => sum + c.kept.length, 0)).toBeGreaterThan(100)
  })

  it("keeps exactly the instructions the official code keeps, in order", () => {
    for (const [index, golden] of cases.entries()) {
      const ours =
        golden.finish_reason === "length"
          ? []
          : parseNumberedInstructions(golden.response).filter((instruction) => reject(instruction) === undefined)
      expect(
        ours.map((text) => text.toLowerCase()),
        `case ${index}`
      ).toEqual(golden.kept.map((text) => text.toLowerCase()))
    }
  })
})

describe("parity with the official prompt encoding", () => {
  it("builds the same prompt text from the same instructions", () => {
    const golden = readGolden<{ instructions: Array<string>; prompt: string }>("official-encode-prompt.jsonl")
    expect(golden.length).toBe(20)
    for (const { instructions, prompt } of golden) expect(encodeBootstrapPrompt(instructions)).toBe(prompt)
  })
})
