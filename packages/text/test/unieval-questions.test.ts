import { describe, expect, it } from "vitest"
import { dialogHistory, uniEvalDialogQuestion, yesProbability } from "../src/index.ts"

const sample = { instruction: "Name a colour.", input: "Think of the sky.", output: "Blue." }

describe("UniEval dialogue questions", () => {
  it("writes UniEval's exact formats with </s> separators", () => {
    expect(uniEvalDialogQuestion("naturalness", sample)).toBe("question: Is this a natural response in the dialogue? </s> response: Blue.")
    expect(uniEvalDialogQuestion("understandability", sample)).toBe(
      "question: Is this an understandable response in the dialogue? </s> response: Blue."
    )
    expect(uniEvalDialogQuestion("coherence", sample)).toBe(
      "question: Is this a coherent response given the dialogue history? </s> response: Blue. </s> dialogue history: Name a colour.\nThink of the sky.\n\n"
    )
  })

  it("leaves the input line out when the input is empty", () => {
    expect(dialogHistory({ ...sample, input: "  " })).toBe("Name a colour.\n\n")
  })

  it("turns two answer log-probabilities into P(Yes)/(P(Yes)+P(No))", () => {
    expect(yesProbability(Math.log(0.3), Math.log(0.1))).toBeCloseTo(0.75, 12)
    expect(yesProbability(-1000, -1001)).toBeCloseTo(1 / (1 + Math.exp(-1)), 12)
    expect(yesProbability(-Infinity, -2)).toBe(0)
  })
})
