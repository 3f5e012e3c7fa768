/**
 * Turning a model's answer into a decision, and the keyword heuristic used
 * when the model step is skipped.
 *
 * @example
 * ```ts
 * import { classificationHeuristic, parseYesNo } from "./decide.ts"
 * parseYesNo(" Yes, it is.") // true
 * parseYesNo("maybe") // undefined
 * classificationHeuristic("Classify the animal as a mammal or a bird.") // true
 * ```
 */

/** `true` for an answer whose first word is yes, `false` for no, `undefined` otherwise. */
export const parseYesNo = (answer: string): boolean | undefined => {
  const firstWord = answer.trim().toLowerCase().match(/^[a-z]+/)?.[0]
  if (firstWord === "yes") return true
  if (firstWord === "no") return false
  return undefined
}

// Cues that the answer is a label: explicit labelling verbs, binary answers, category choices.
const CLASSIFICATION_CUES =
  /\b(?:classify|classification|categori[sz]e|category|categories|labels?|sentiment|yes or no|true or false|is (?:it|this|the \w+) (?:true|false)|(?:decide|determine|tell|identify|detect|check) (?:whether|if)|which (?:one|of the (?:following|two|options)))\b/i

/** A cheap guess at `is_classification` from the instruction's wording (used with `skip: true`). */
export const classificationHeuristic = (instruction: string): boolean => CLASSIFICATION_CUES.test(instruction)
