/**
 * The fixed prompt set the built-in model's well-formedness is measured on:
 * held-out instructions (written for this check, in no training template),
 * bootstrap prompts built from the bundled seed tasks the way the bootstrap
 * stage builds them, and the bundled mini SuperNI evaluation tasks.
 */
import type { SeedTask } from "@refine-af/generator-self-instruct"
import { encodeBootstrapPrompt } from "@refine-af/generator-self-instruct"
import { makeRng } from "../corpus/rng.ts"

/** Held-out classification instructions (answers come from a small label set). */
export const HELD_OUT_CLASSIFICATION: ReadonlyArray<string> = [
  "Decide whether the email is spam or not spam.",
  "Tell whether the given year is a leap year. Answer yes or no.",
  "Classify the weather description as sunny, rainy or snowy.",
  "Is the sentence written in the past tense or the present tense?",
  "Label the tweet as happy, sad or angry.",
  "Decide if the city is in Europe or in Asia."
]

/** Held-out open-ended instructions. */
export const HELD_OUT_GENERATION: ReadonlyArray<string> = [
  "Write a greeting for a birthday card.",
  "Double every number in the list.",
  "Give a synonym for the word.",
  "Turn the sentence into a question.",
  "Name three things you can find in a kitchen.",
  "Repeat the word three times."
]

/** `count` bootstrap prompts of 8 seed instructions each, drawn reproducibly. */
export const bootstrapPrompts = (seeds: ReadonlyArray<SeedTask>, count: number): Array<string> => {
  const rng = makeRng(4242)
  return Array.from({ length: count }, () => encodeBootstrapPrompt(rng.sample(seeds, 8).map((s) => s.instruction)))
}
