/**
 * A fast synthetic LanguageModel for the bootstrapping benchmark: each reply
 * continues the prompt's list with items 9–15, each a plausible-looking
 * instruction (an imperative verb, common function words and content words
 * from a 3,000-word vocabulary, 6–24 words). Like a real model it also
 * echoes shown items with one word changed (30%: ROUGE-L rejects them),
 * writes too-short items (5%) and blacklisted ones (5%), so every filter
 * does work. Token statistics, not meaning, are what the pipeline's cost
 * depends on.
 */
import { Effect, Stream } from "effect"
import { LanguageModelError, type LanguageModelService } from "@refine-af/core"
import { randomFor, seedFor } from "../src/random.ts"

const VERBS = "Write Explain Describe List Summarize Classify Suggest Compare Translate Rewrite Generate Identify Create Give Tell Find Plan Design Evaluate Outline".split(" ")
const FUNCTION_WORDS = "the a an of to in for on with about and or that this your from by as at each every two three".split(" ")
const SYLLABLES = "ka lo mi ne ru sa ti vo be da fe gu hi jo ku la ma no pe qi ra se to vu wa xe yo zu".split(" ")

const vocabulary: ReadonlyArray<string> = (() => {
  const words = new Set<string>()
  const random = randomFor(99)
  while (words.size < 3000) {
    const length = 2 + Math.floor(random() * 2)
    words.add(Array.from({ length }, () => SYLLABLES[Math.floor(random() * SYLLABLES.length)]).join(""))
  }
  return [...words]
})()

const pick = <A>(items: ReadonlyArray<A>, random: () => number): A => items[Math.floor(random() * items.length)]!

const instruction = (random: () => number): string => {
  const length = 6 + Math.floor(random() * 19)
  const words = [pick(VERBS, random)]
  for (let i = 1; i < length; i++) words.push(random() < 0.4 ? pick(FUNCTION_WORDS, random) : pick(vocabulary, random))
  return `${words.join(" ")}.`
}

/** The prompt's shown items ("1. ..." to "8. ..."). */
const shownItems = (prompt: string): Array<string> =>
  prompt
    .split("\n")
    .filter((line) => /^\d+\. /.test(line))
    .map((line) => line.replace(/^\d+\. /, ""))

const item = (random: () => number, shown: ReadonlyArray<string>): string => {
  const roll = random()
  if (roll < 0.3 && shown.length > 0) {
    const words = pick(shown, random).split(" ")
    words[Math.floor(random() * words.length)] = pick(vocabulary, random)
    return words.join(" ")
  }
  if (roll < 0.35) return `${pick(VERBS, random)} ${pick(vocabulary, random)}.`
  if (roll < 0.4) return `Describe the image of ${pick(vocabulary, random)} ${pick(vocabulary, random)} in detail.`
  return instruction(random)
}

const hash = (text: string): number => {
  let h = 2166136261
  for (let i = 0; i < text.length; i += 7) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

/** The model; `modelMs` accumulates the time spent inside `generate` (subtracted from the pipeline time). */
export const syntheticBootstrapModel = (): LanguageModelService & { modelMs: number } => {
  const model = {
    modelMs: 0,
    info: { id: "synthetic-bench-model", contextLength: 4096 },
    generate: (requests: Parameters<LanguageModelService["generate"]>[0]) =>
      Effect.sync(() => {
        const started = performance.now()
        const generations = requests.map((request) => {
          const random = randomFor(seedFor(request.params.seed ?? 0, hash(String(request.prompt))))
          const shown = shownItems(String(request.prompt))
          const items = Array.from({ length: 7 }, (_, index) => `${index === 0 ? "" : `${9 + index}.`} ${item(random, shown)}`)
          return { text: items.join("\n"), tokenIds: [], logprobs: [], finishReason: "stop" as const, promptTokens: 0 }
        })
        model.modelMs += performance.now() - started
        return generations
      }),
    stream: () => Stream.fail(new LanguageModelError({ reason: "InvalidRequest", message: "benchmark model: generate only" })),
    score: () => Effect.fail(new LanguageModelError({ reason: "InvalidRequest", message: "benchmark model: generate only" })),
    countTokens: (text: string) => Effect.succeed(text.split(/\s+/).length)
  }
  return model
}
