import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { checkAnswer, checkNames, makeVerifyScorer, VerifyOptions } from "../src/index.ts"

const verdict = (instruction: string, input: string, output: string) => checkAnswer({ instruction, input, output })

// [instruction, input, right output, a wrong output, the check expected to recognise it]
const cases: ReadonlyArray<readonly [string, string, string, string, string]> = [
  ["Add the two numbers.", "12 + 30", "42", "41", "add"],
  ["What is the sum of these two numbers?", "7 and 8", "15.", "78", "add"],
  ["Subtract the second number from the first.", "50 - 8", "42", "58", "subtract"],
  ["Find the product of the two numbers.", "6 * 7", "42", "13", "multiply"],
  ["Find the mean of the two numbers.", "10 and 20", "15", "30", "average"],
  ["Sort the prices in ascending order.", "5, 3, 9", "3, 5, 9", "9, 5, 3", "sort-numbers"],
  ["Order these ages from highest to lowest.", "5, 3, 9", "9, 5, 3", "3, 5, 9", "sort-numbers"],
  ["Find the largest of the scores.", "4, 17, 9", "17", "9", "maximum"],
  ["Which of the temperatures is the lowest?", "4, 17, 9", "4", "17", "minimum"],
  ["How many values does the list contain?", "1, 2, 3, 4", "4", "3", "count-items"],
  ["Is the given number even or odd?", "37", "Odd", "Even", "even-odd"],
  ["Is the first number greater than the second? Answer yes or no.", "9 and 4", "Yes", "No", "greater"],
  ["Reverse the letters of the word.", "garden", "nedrag", "garden", "reverse"],
  ["Convert the sentence to upper case.", "Tom ran.", "TOM RAN.", "Tom ran.", "upper-case"],
  ["Rewrite the sentence using only small letters.", "TOM RAN.", "tom ran.", "TOM RAN.", "lower-case"],
  ["Count the words in the sentence.", "The old cat slept.", "4", "5", "count-words"],
  ['Count how many times the letter "a" appears in the sentence.', "A banana.", "4", "3", "count-letter"],
  ["Return the first word of the sentence.", "Maria painted the bridge.", "Maria", "bridge", "first-word"],
  ["Which word comes last in the sentence?", "Maria painted the bridge.", "bridge", "Maria", "last-word"],
  ["Find the longest word in the sentence.", "The cat painted it.", "painted", "cat", "longest-word"],
  ["Sort the fruits in alphabetical order.", "pear, apple, fig", "apple, fig, pear", "pear, apple, fig", "sort-words"],
  ["Make an acronym from the first letters of the words.", "quiet river bridge", "QRB", "QR", "acronym"],
  ["Remove all vowels from the word.", "banana", "bnn", "banana", "remove-vowels"],
  ["Give the plural of the word.", "box", "boxes", "boxs", "plural"],
  ["Is the word a palindrome? Answer Yes or No.", "kayak", "Yes", "No", "palindrome"],
  ["Decide if the word reads the same backwards. Answer yes or no.", "paper", "no", "yes", "palindrome"]
]

describe("answer checks", () => {
  it.each(cases)("%s: right, wrong", (instruction, input, right, wrong, check) => {
    expect(verdict(instruction, input, right)).toMatchObject({ verdict: "correct", check })
    expect(verdict(instruction, input, wrong)).toMatchObject({ verdict: "wrong", check })
  })

  it("every check is exercised by a case above", () => {
    expect(new Set(cases.map((c) => c[4]))).toEqual(new Set(checkNames))
  })

  it("inputs that do not fit the task are bad input, not wrong", () => {
    expect(verdict("Add the two numbers.", "1, 2, 3", "6").verdict).toBe("bad-input")
    expect(verdict("Write the given word backwards.", "cold jacket", "tekcaj dloc").verdict).toBe("bad-input")
    expect(verdict("Tell whether the number is even or odd.", "21 and 72", "Even").verdict).toBe("bad-input")
    expect(verdict("Which of the temperatures is the lowest?", "7 * 3, 2", "2").verdict).toBe("bad-input")
  })

  it("abstains where the wording is not a procedural task", () => {
    for (const instruction of ["Summarize the article in one sentence.", "What is the largest city in Europe?", "Write a poem about autumn.", "Is the item a fruit or a vegetable?", "Explain the difference between weather and climate."]) {
      expect(verdict(instruction, "some text", "an answer").verdict).toBe("unchecked")
    }
  })

  it("a number answer must be the number, not a sentence that happens to contain it", () => {
    expect(verdict("Add the two numbers.", "2 + 2", "The answer is 4").verdict).toBe("correct")
    expect(verdict("Add the two numbers.", "2 + 2", "4 or 5").verdict).toBe("wrong")
    expect(verdict("Add the two numbers.", "2 + 2", "I think the total of these two numbers would be 4").verdict).toBe("wrong")
  })
})

describe("rules/verify", () => {
  it("maps verdicts to the configured scores and reports parts", async () => {
    const scorer = makeVerifyScorer("v", Schema.decodeUnknownSync(VerifyOptions)({ wrong: -0.5, badInput: -1, unchecked: 0.25 }))
    const scores = await Effect.runPromise(scorer.score([
      { instruction: "Add the two numbers.", input: "1 + 2", output: "3" },
      { instruction: "Add the two numbers.", input: "1 + 2", output: "4" },
      { instruction: "Add the two numbers.", input: "1", output: "1" },
      { instruction: "Write a haiku.", input: "", output: "Leaves fall." }
    ]))
    expect(scores.map((s) => s.value)).toEqual([1, -0.5, -1, 0.25])
    expect(scores.map((s) => s.parts)).toEqual([
      { checked: 1, correct: 1, bad_input: 0 },
      { checked: 1, correct: 0, bad_input: 0 },
      { checked: 1, correct: 0, bad_input: 1 },
      { checked: 0, correct: 0, bad_input: 0 }
    ])
  })
})
