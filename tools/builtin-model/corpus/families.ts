/** Every procedural task family, and the bundled seed tasks as fixed tasks. */
import type { SeedTask } from "@refine-af/generator-self-instruct"
import * as numbers from "./families-numbers.ts"
import * as text from "./families-text.ts"
import type { Family, Task } from "./task.ts"

/** The procedural families (order matters for reproducibility: append only). */
export const FAMILIES: ReadonlyArray<Family> = [
  numbers.add, numbers.subtract, numbers.multiply, numbers.sortNumbers, numbers.extreme, numbers.countItems,
  numbers.evenOdd, numbers.compare, numbers.average,
  text.reverseWord, text.upper, text.lower, text.countWords, text.countLetter, text.firstLast, text.longestWord,
  text.sortWords, text.acronym, text.removeVowels, text.plural, text.sentenceAbout,
  text.fruitOrVegetable, text.animalClass, text.sentiment, text.palindrome
]

/** A seed task as a task whose examples are its own instances. */
export const seedAsTask = (seed: SeedTask): Task => {
  const labels = [...new Set(seed.instances.map((i) => i.output.trim()))]
  return {
    instruction: seed.instruction,
    isClassification: seed.is_classification,
    ...(seed.is_classification ? { labels } : {}),
    example: (rng, label) => {
      const pool = label === undefined ? seed.instances : seed.instances.filter((i) => i.output.trim() === label)
      const chosen = rng.pick(pool.length > 0 ? pool : seed.instances)
      return { input: chosen.input, output: chosen.output }
    }
  }
}
