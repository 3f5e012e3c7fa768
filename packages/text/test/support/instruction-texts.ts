import { randomInt, seededRandom } from "./seeded-random.ts"

/**
 * Seeded generator of instruction-like English texts (8–40 words) for pool tests and the
 * dedup benchmark: an imperative opening, Zipf-distributed content words from a synthetic
 * lexicon, frequent function words, and a share of near-duplicates (small edits of earlier
 * texts) like the repeats a model produces during Self-Instruct bootstrapping.
 */

const OPENINGS = [
  "write a", "generate a list of", "given a", "explain how to", "create a", "classify the", "describe the",
  "summarize the following", "find the", "suggest some", "rewrite the", "what is the", "tell me"
]
const FUNCTION_WORDS = ["the", "a", "of", "to", "and", "in", "for", "with", "that", "is", "on", "your", "an", "it", "as", "from", "by", "or"]
const SYLLABLES = ["ba", "co", "di", "fe", "ga", "hi", "jo", "ku", "la", "me", "ni", "po", "ra", "se", "ti", "vo", "wu", "ze", "str", "ng"]

const buildLexicon = (random: () => number, size: number): Array<string> =>
  Array.from({ length: size }, () => {
    let word = ""
    const syllables = 1 + randomInt(random, 3)
    for (let k = 0; k < syllables; k++) word += SYLLABLES[randomInt(random, SYLLABLES.length)]
    return word
  })

/** Options of `makeInstructionTexts`. */
export interface InstructionTextOptions {
  readonly seed: number
  /** Distinct content words; smaller gives more overlap between texts. */
  readonly lexiconSize?: number
  readonly minWords?: number
  readonly maxWords?: number
  /** Fraction of texts that are small edits of an earlier text. */
  readonly nearDuplicateRate?: number
}

/** Returns a generator; each call yields the next text of the seeded stream. */
export const instructionTextStream = (options: InstructionTextOptions): (() => string) => {
  const random = seededRandom(options.seed)
  const lexicon = buildLexicon(random, options.lexiconSize ?? 3000)
  const minWords = options.minWords ?? 8
  const maxWords = options.maxWords ?? 40
  const nearDuplicateRate = options.nearDuplicateRate ?? 0.15
  const history: Array<Array<string>> = []
  // Zipf-like rank sampling: small ranks are much more frequent.
  const contentWord = (): string => lexicon[Math.floor(lexicon.length ** random()) - 1]!

  const freshText = (): Array<string> => {
    const words = OPENINGS[randomInt(random, OPENINGS.length)]!.split(" ")
    const length = minWords + randomInt(random, maxWords - minWords + 1)
    while (words.length < length) words.push(random() < 0.4 ? FUNCTION_WORDS[randomInt(random, FUNCTION_WORDS.length)]! : contentWord())
    return words
  }

  const edit = (source: ReadonlyArray<string>): Array<string> => {
    const words = [...source]
    const edits = 1 + randomInt(random, 4)
    for (let k = 0; k < edits; k++) {
      const at = randomInt(random, words.length)
      const kind = randomInt(random, 3)
      if (kind === 0 && words.length > minWords) words.splice(at, 1)
      else if (kind === 1) words.splice(at, 0, contentWord())
      else words[at] = contentWord()
    }
    return words
  }

  return () => {
    const words = history.length > 0 && random() < nearDuplicateRate
      ? edit(history[randomInt(random, history.length)]!)
      : freshText()
    history.push(words)
    const sentence = words.join(" ")
    return sentence.charAt(0).toUpperCase() + sentence.slice(1) + "."
  }
}

/** `count` texts from a seeded stream. */
export const makeInstructionTexts = (count: number, options: InstructionTextOptions): Array<string> => {
  const next = instructionTextStream(options)
  return Array.from({ length: count }, next)
}
