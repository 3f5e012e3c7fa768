import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { fitPrompt, makePromptEncoder, seededRandom, type SuperNiTask } from "../src/index.ts"

/** An independent token measure for the test: whitespace-separated words. */
const countWords = (text: string) => Effect.succeed(text.split(/\s+/).filter(Boolean).length)

const task: SuperNiTask = {
  name: "toy",
  definition: "Repeat the last word of the input.",
  category: "Overlap Extraction",
  positiveExamples: [
    { input: "one two three four", output: "four" },
    { input: "red green blue", output: "blue" }
  ],
  instances: []
}
const instance = { id: "1", input: "alpha beta gamma delta epsilon zeta eta theta iota kappa", output: ["kappa"] }
const encode = Effect.runSync(makePromptEncoder({ positiveExamples: 2 }))
const fit = (budget: number) => Effect.runSync(fitPrompt({ encode, task, instance, examples: 2, budget, countTokens: countWords }))
const words = (text: string) => Effect.runSync(countWords(text))

describe("fitPrompt", () => {
  it("keeps the prompt unchanged when it fits", () => {
    const full = encode(task, instance)
    expect(fit(words(full))).toEqual({ prompt: full, examples: 2, inputTruncated: false, fits: true })
  })

  it("drops demonstrations, the last one first, before touching the input", () => {
    const oneExample = encode(task, instance, 1)
    const result = fit(words(oneExample))
    expect(result).toMatchObject({ examples: 1, inputTruncated: false, fits: true })
    expect(result.prompt).toBe(oneExample)
    expect(result.prompt).toContain("one two three four")
    expect(result.prompt).not.toContain("red green blue")
  })

  it("then keeps the longest prefix of input words that fits, for every budget", () => {
    const bare = words(encode(task, { ...instance, input: "" }, 0))
    const noExamples = words(encode(task, instance, 0))
    for (let budget = bare; budget < noExamples; budget++) {
      const result = fit(budget)
      expect(result).toMatchObject({ examples: 0, inputTruncated: true, fits: true })
      expect(words(result.prompt)).toBe(budget) // one word per token here, so the prefix is exactly maximal
      expect(result.prompt.endsWith("\nOutput:")).toBe(true)
    }
  })

  it("says when not even the definition fits", () => {
    const bare = words(encode(task, { ...instance, input: "" }, 0))
    expect(fit(bare - 1)).toMatchObject({ fits: false, inputTruncated: true, examples: 0 })
  })

  it("never exceeds the budget when it reports a fit (random budgets and a character-based measure)", () => {
    const random = seededRandom(8)
    const countChars = (text: string) => Effect.succeed(text.length)
    for (let trial = 0; trial < 200; trial++) {
      const budget = 40 + random.int(400)
      const result = Effect.runSync(fitPrompt({ encode, task, instance, examples: 2, budget, countTokens: countChars }))
      if (result.fits) expect(result.prompt.length).toBeLessThanOrEqual(budget)
      else expect(result.prompt).toBe(encode(task, { ...instance, input: "" }, 0))
    }
  })
})
