import { emptyReferences } from "../errors.ts"
import { deleteAsciiPunctuation, pythonLower, pythonSplitWhitespace } from "./python-text.ts"

/**
 * SuperNI / Tk-Instruct `normalize_answer`: lowercase, delete ASCII punctuation, collapse
 * Python whitespace. Articles are NOT removed: the official code has that step commented out.
 *
 * @example
 * ```ts
 * import { normalizeAnswer } from "@refine-af/text"
 * normalizeAnswer("  The  Answer!! ") // "the answer"
 * ```
 */
export const normalizeAnswer = (s: string): string =>
  pythonSplitWhitespace(deleteAsciiPunctuation(pythonLower(s))).join(" ")

/**
 * SuperNI exact match: 1 when the normalized prediction equals any normalized reference.
 * Throws `EmptyReferencesError` on an empty reference list (Python's `max([])` raises too).
 *
 * @example
 * ```ts
 * import { exactMatch } from "@refine-af/text"
 * exactMatch("Yes.", ["yes", "no"]) // 1
 * ```
 */
export const exactMatch = (prediction: string, references: ReadonlyArray<string>): 0 | 1 => {
  if (references.length === 0) throw emptyReferences("exactMatch")
  const normalizedPrediction = normalizeAnswer(prediction)
  return references.some((reference) => normalizeAnswer(reference) === normalizedPrediction) ? 1 : 0
}
