/**
 * The corpus's procedural families and `rules/verify`'s answer checks are
 * written independently (one generates examples, the other recognises a task
 * from its wording and recomputes the answer): every example of a family
 * whose answer follows from its input must verify as correct, and a changed
 * output as wrong. Families whose answer needs world knowledge (fruit or
 * vegetable, animal class, sentiment, free text) must be left unchecked.
 */
import { checkAnswer } from "@refine-af/reward-rules"
import { describe, expect, it } from "vitest"
import { FAMILIES } from "./families.ts"
import { makeRng } from "./rng.ts"

const KNOWLEDGE = new Set([20, 21, 22, 23]) // sentenceAbout, fruitOrVegetable, animalClass, sentiment
const PLURAL = 19
/** The corpus pluralises "library" as "librarys" (a known defect of the committed model's data, kept so its weights stay reproducible); the verifier expects English. */
const naivePlural = (index: number, input: string) => index === PLURAL && /[^aeiou]y$/.test(input)

describe("procedural families vs rules/verify", () => {
  it("every example of a verifiable family checks as correct, and a corrupted one as wrong", () => {
    const rng = makeRng(2026)
    let checked = 0
    let skipped = 0
    FAMILIES.forEach((family, index) => {
      for (let draw = 0; draw < 12; draw++) {
        const task = family(rng)
        const example = task.example(rng)
        const verdict = checkAnswer({ instruction: task.instruction, ...example })
        if (naivePlural(index, example.input)) {
          expect(verdict).toMatchObject({ verdict: "wrong", expected: `${example.input.slice(0, -1)}ies` })
          skipped++
          continue
        }
        if (KNOWLEDGE.has(index)) {
          expect(verdict.verdict, `${task.instruction} | ${example.input}`).toBe("unchecked")
          skipped++
          continue
        }
        expect(verdict, `${task.instruction} | ${example.input} → ${example.output}`).toMatchObject({ verdict: "correct" })
        const corrupted = checkAnswer({ instruction: task.instruction, input: example.input, output: `${example.output}x9` })
        expect(corrupted.verdict, `${task.instruction} | ${example.input}`).toBe("wrong")
        checked++
      }
    })
    expect(checked + skipped).toBe(FAMILIES.length * 12)
    expect(checked).toBeGreaterThan((FAMILIES.length - KNOWLEDGE.size - 1) * 12)
  })
})
