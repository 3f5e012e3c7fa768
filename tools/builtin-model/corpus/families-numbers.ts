/** Procedural task families over numbers: arithmetic, sorting, comparing, counting. */
import type { Rng } from "./rng.ts"
import type { Family, Task } from "./task.ts"
import { SUBJECTS } from "./words.ts"

const numbers = (rng: Rng, count: number, max: number) => Array.from({ length: count }, () => rng.int(0, max))
const list = (values: ReadonlyArray<number | string>) => values.join(", ")
const what = ["numbers", "values", "scores", "prices", "ages", "temperatures", "distances", "weights"]

const arithmetic = (name: string, phrasings: ReadonlyArray<string>, apply: (a: number, b: number) => number, max: number, joiner: string): Family =>
  (rng) => ({
    instruction: rng.pick(phrasings),
    isClassification: false,
    example: (r) => {
      const a = r.int(0, max)
      const b = r.int(0, name === "subtract" ? a : max)
      return { input: `${a} ${joiner} ${b}`, output: String(apply(a, b)) }
    }
  })

export const add = arithmetic("add", [
  "Add the two numbers.", "Find the sum of the two numbers given.", "Compute the total of the two numbers.",
  "What is the sum of these two numbers?", "Calculate the result of adding the numbers together."
], (a, b) => a + b, 99, "+")
export const subtract = arithmetic("subtract", [
  "Subtract the second number from the first.", "Find the difference between the two numbers.",
  "Compute the first number minus the second number.", "What do you get when you take the second number away from the first?"
], (a, b) => a - b, 99, "-")
export const multiply = arithmetic("multiply", [
  "Multiply the two numbers.", "Find the product of the two numbers.", "Compute the product of the given numbers.",
  "What is the first number times the second number?"
], (a, b) => a * b, 12, "*")

export const sortNumbers: Family = (rng) => {
  const descending = rng.chance(0.4)
  const noun = rng.pick(what)
  const order = descending ? rng.pick(["in descending order", "from largest to smallest", "from highest to lowest"]) : rng.pick(["in ascending order", "from smallest to largest", "from lowest to highest"])
  const instruction = rng.pick([`Sort the ${noun} ${order}.`, `Arrange the following ${noun} ${order}.`, `Put the list of ${noun} ${order}.`, `Order these ${noun} ${order}.`])
  return {
    instruction,
    isClassification: false,
    example: (r) => {
      const values = numbers(r, r.int(3, 6), 99)
      const sorted = [...values].sort((a, b) => (descending ? b - a : a - b))
      return { input: list(values), output: list(sorted) }
    }
  }
}

export const extreme: Family = (rng) => {
  const largest = rng.chance(0.5)
  const noun = rng.pick(what)
  const instruction = largest
    ? rng.pick([`Find the largest of the ${noun}.`, `Which of the ${noun} is the biggest?`, `Return the maximum of the given ${noun}.`])
    : rng.pick([`Find the smallest of the ${noun}.`, `Which of the ${noun} is the lowest?`, `Return the minimum of the given ${noun}.`])
  return {
    instruction,
    isClassification: false,
    example: (r) => {
      const values = numbers(r, r.int(3, 6), 99)
      return { input: list(values), output: String(largest ? Math.max(...values) : Math.min(...values)) }
    }
  }
}

export const countItems: Family = (rng) => {
  const noun = rng.pick(what)
  return {
    instruction: rng.pick([`Count how many ${noun} are in the list.`, `How many ${noun} does the list contain?`, `Tell me the number of ${noun} given.`]),
    isClassification: false,
    example: (r) => {
      const values = numbers(r, r.int(2, 9), 99)
      return { input: list(values), output: String(values.length) }
    }
  }
}

export const evenOdd: Family = (rng): Task => ({
  instruction: rng.pick(["Tell whether the number is even or odd.", "Classify the number as even or odd.", "Is the given number even or odd?", "Decide if the number is odd or even."]),
  isClassification: true,
  labels: ["Even", "Odd"],
  example: (r, label) => {
    const wantEven = label === undefined ? r.chance(0.5) : label === "Even"
    const n = r.int(0, 499) * 2 + (wantEven ? 0 : 1)
    return { input: String(n), output: n % 2 === 0 ? "Even" : "Odd" }
  }
})

export const compare: Family = (rng): Task => ({
  instruction: rng.pick(["Is the first number greater than the second? Answer yes or no.", "Decide whether the first number is larger than the second number. Answer Yes or No."]),
  isClassification: true,
  labels: ["Yes", "No"],
  example: (r, label) => {
    const yes = label === undefined ? r.chance(0.5) : label === "Yes"
    const a = r.int(1, 98)
    const b = yes ? r.int(0, a - 1) : r.int(a, 99)
    return { input: `${a} and ${b}`, output: yes ? "Yes" : "No" }
  }
})

export const average: Family = (rng) => {
  const subject = rng.pick(SUBJECTS)
  return {
    instruction: rng.pick([`Compute the average of the two ${subject} test scores.`, `Find the mean of the two numbers.`, `What is the average of the given pair of numbers?`]),
    isClassification: false,
    example: (r) => {
      const a = r.int(0, 50) * 2
      const b = r.int(0, 50) * 2
      return { input: `${a} and ${b}`, output: String((a + b) / 2) }
    }
  }
}
