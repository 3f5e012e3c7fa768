/** Procedural task families over words and sentences: string edits, counting, sorting, classification. */
import type { Rng } from "./rng.ts"
import type { Family, Task } from "./task.ts"
import { ADJECTIVES, BIRDS, FISH, FRUITS, MAMMALS, NAMES, NEGATIVE_WORDS, NOUNS, PLACES, POSITIVE_WORDS, TOPICS, VEGETABLES, VERBS } from "./words.ts"

/** A short random sentence, e.g. "Maria painted the old bridge." */
export const sentence = (rng: Rng): string => {
  const subject = rng.chance(0.5) ? rng.pick(NAMES) : `The ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`
  return `${subject} ${rng.pick(VERBS)} the ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}.`
}
const words = (text: string) => text.replace(/[.,!?]/g, "").split(/\s+/).filter((w) => w !== "")

const wordTask = (phrasings: ReadonlyArray<string>, make: (rng: Rng) => { input: string; output: string }): Family => (rng) => ({
  instruction: rng.pick(phrasings),
  isClassification: false,
  example: make
})

export const reverseWord = wordTask(
  ["Reverse the letters of the word.", "Write the given word backwards.", "Spell the word in reverse order."],
  (r) => {
    const w = r.pick([...NOUNS, ...FRUITS])
    return { input: w, output: [...w].reverse().join("") }
  }
)
export const upper = wordTask(
  ["Convert the sentence to upper case.", "Rewrite the sentence in capital letters.", "Change every letter of the sentence to uppercase."],
  (r) => {
    const s = sentence(r)
    return { input: s, output: s.toUpperCase() }
  }
)
export const lower = wordTask(
  ["Convert the text to lower case.", "Rewrite the sentence using only small letters."],
  (r) => {
    const s = sentence(r).toUpperCase()
    return { input: s, output: s.toLowerCase() }
  }
)
export const countWords = wordTask(
  ["Count the words in the sentence.", "How many words does the sentence have?", "Tell me the number of words in the given text."],
  (r) => {
    const s = sentence(r)
    return { input: s, output: String(words(s).length) }
  }
)
export const countLetter: Family = (rng) => {
  const letter = rng.pick(["a", "e", "o", "r", "t", "n"])
  return {
    instruction: rng.pick([`Count how many times the letter "${letter}" appears in the sentence.`, `How often does the letter ${letter} occur in the text?`]),
    isClassification: false,
    example: (r) => {
      const s = sentence(r)
      return { input: s, output: String([...s.toLowerCase()].filter((c) => c === letter).length) }
    }
  }
}
export const firstLast: Family = (rng) => {
  const first = rng.chance(0.5)
  return {
    instruction: first
      ? rng.pick(["Return the first word of the sentence.", "What is the first word in the given sentence?"])
      : rng.pick(["Return the last word of the sentence.", "Which word comes last in the sentence?"]),
    isClassification: false,
    example: (r) => {
      const w = words(sentence(r))
      return { input: w.join(" ") + ".", output: first ? w[0]! : w[w.length - 1]! }
    }
  }
}
export const longestWord = wordTask(
  ["Find the longest word in the sentence.", "Which word in the sentence has the most letters?"],
  (r) => {
    const w = words(sentence(r))
    return { input: w.join(" ") + ".", output: w.reduce((best, x) => (x.length > best.length ? x : best)) }
  }
)
export const sortWords: Family = (rng) => {
  const kind = rng.pick([["fruits", FRUITS], ["vegetables", VEGETABLES], ["animals", MAMMALS], ["words", NOUNS]] as const)
  return {
    instruction: rng.pick([`Sort the ${kind[0]} in alphabetical order.`, `Arrange the list of ${kind[0]} alphabetically.`, `Put these ${kind[0]} in order from A to Z.`]),
    isClassification: false,
    example: (r) => {
      const items = r.sample(kind[1], r.int(3, 5))
      return { input: items.join(", "), output: [...items].sort().join(", ") }
    }
  }
}
export const acronym = wordTask(
  ["Make an acronym from the first letters of the words.", "Write the initials of each word in capital letters."],
  (r) => {
    const w = [r.pick(ADJECTIVES), r.pick(NOUNS), r.pick(NOUNS)]
    return { input: w.join(" "), output: w.map((x) => x[0]!.toUpperCase()).join("") }
  }
)
export const removeVowels = wordTask(
  ["Remove all vowels from the word.", "Delete every vowel in the given word."],
  (r) => {
    const w = r.pick([...NOUNS, ...FRUITS, ...VEGETABLES])
    return { input: w, output: w.replace(/[aeiou]/g, "") }
  }
)
export const plural = wordTask(
  ["Write the plural form of the noun.", "Give the plural of the word."],
  (r) => {
    const w = r.pick(NOUNS)
    return { input: w, output: /(s|sh|ch|x)$/.test(w) ? `${w}es` : `${w}s` }
  }
)
export const sentenceAbout: Family = (rng) => {
  const topic = rng.pick(TOPICS)
  return {
    instruction: rng.pick([`Write one sentence about ${topic}.`, `Describe ${topic} in a single sentence.`, `Give a short title for a story about ${topic}.`]),
    isClassification: false,
    example: (r) => ({ input: "", output: `${r.pick(NAMES)} remembers ${topic} as ${r.pick(ADJECTIVES)} and ${r.pick(ADJECTIVES)}.` })
  }
}

const labelled = (phrasings: ReadonlyArray<string>, classes: ReadonlyArray<readonly [string, ReadonlyArray<string>]>): Family => (rng): Task => ({
  instruction: rng.pick(phrasings),
  isClassification: true,
  labels: classes.map(([label]) => label),
  example: (r, label) => {
    const [name, pool] = label === undefined ? r.pick(classes) : classes.find(([l]) => l === label)!
    return { input: r.pick(pool), output: name }
  }
})

export const fruitOrVegetable = labelled(
  ["Is the item a fruit or a vegetable?", "Classify the food as a fruit or a vegetable.", "Tell whether the given word names a fruit or a vegetable."],
  [["Fruit", FRUITS], ["Vegetable", VEGETABLES]]
)
export const animalClass = labelled(
  ["Classify the animal as a mammal, a bird or a fish.", "Is the animal a mammal, bird or fish?"],
  [["Mammal", MAMMALS], ["Bird", BIRDS], ["Fish", FISH]]
)
export const sentiment: Family = (rng): Task => {
  const place = rng.pick(PLACES)
  return {
    instruction: rng.pick([`Decide whether the review of the ${place} is positive or negative.`, `Classify the sentiment of the review as Positive or Negative.`, `Is the customer review positive or negative?`]),
    isClassification: true,
    labels: ["Positive", "Negative"],
    example: (r, label) => {
      const positive = label === undefined ? r.chance(0.5) : label === "Positive"
      const pool = positive ? POSITIVE_WORDS : NEGATIVE_WORDS
      const [a, b] = r.sample(pool, 2)
      return { input: `The ${place} was ${a} and the staff were ${b}.`, output: positive ? "Positive" : "Negative" }
    }
  }
}
export const palindrome = labelled(
  ["Is the word a palindrome? Answer Yes or No.", "Decide if the word reads the same backwards. Answer yes or no."],
  [["Yes", ["level", "radar", "noon", "civic", "kayak", "refer", "madam", "rotor"]], ["No", ["table", "river", "stone", "garden", "light", "paper", "music", "cloud"]]]
)
