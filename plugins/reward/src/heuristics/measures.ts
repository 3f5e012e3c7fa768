/**
 * Cheap, model-free measures of a sample's output: length, repetition, format
 * validity, overlap with the instruction, emptiness and copying of the input.
 * Each is a pure function of the sample, so they need no cache.
 *
 * @example
 * ```ts
 * import { repetition } from "@refine-af/reward"
 * repetition("a b c a b c a b c", 3) // 4/7 of the 3-grams repeat an earlier one
 * ```
 */
import { rougeL } from "@refine-af/text"

/** Whitespace-separated words of a text. */
export const words = (text: string): Array<string> => text.split(/\s+/).filter((word) => word.length > 0)

/**
 * Share of the output's word n-grams that repeat an earlier n-gram (0: none,
 * near 1: one phrase looped). Texts shorter than n words score 0.
 */
export const repetition = (text: string, n = 3): number => {
  const tokens = words(text.toLowerCase())
  const total = tokens.length - n + 1
  if (total <= 0) return 0
  const seen = new Set<string>()
  let repeated = 0
  for (let i = 0; i < total; i++) {
    const gram = tokens.slice(i, i + n).join(" ")
    if (seen.has(gram)) repeated++
    else seen.add(gram)
  }
  return repeated / total
}

/** What `formatValid` checks beyond the basics. */
export type ExpectedFormat = "text" | "json" | "single_line"

const closers: Readonly<Record<string, string>> = { ")": "(", "]": "[", "}": "{" }

/** True when brackets nest and close, ignoring brackets inside double quotes. */
export const bracketsBalanced = (text: string): boolean => {
  const stack: Array<string> = []
  let inQuote = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === "\\" && inQuote) {
      i++
      continue
    }
    if (ch === "\"") inQuote = !inQuote
    if (inQuote) continue
    if (ch === "(" || ch === "[" || ch === "{") stack.push(ch)
    const opener = closers[ch]
    if (opener !== undefined && stack.pop() !== opener) return false
  }
  return stack.length === 0
}

// control characters other than tab/newline/carriage return, and U+FFFD (a decoding failure)
const garbage = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]/

/**
 * 1 when the output is well-formed text: no control characters or replacement
 * characters, balanced brackets, and (for `json`) parseable JSON, (for
 * `single_line`) one line. Empty output is not valid.
 */
export const formatValid = (text: string, format: ExpectedFormat = "text"): boolean => {
  const trimmed = text.trim()
  if (trimmed.length === 0 || garbage.test(text)) return false
  switch (format) {
    case "json":
      try {
        JSON.parse(trimmed)
        return true
      } catch {
        return false
      }
    case "single_line":
      return !trimmed.includes("\n") && bracketsBalanced(trimmed)
    case "text":
      return bracketsBalanced(trimmed)
  }
}

/** ROUGE-L F-measure of the output against the instruction (0 when either is empty). */
export const instructionOverlap = (output: string, instruction: string): number =>
  words(output).length === 0 || words(instruction).length === 0 ? 0 : rougeL(output, instruction).fmeasure

const normalise = (text: string): string => words(text.toLowerCase()).join(" ")

/**
 * 1 when the output copies the input or the instruction: equal after case and
 * whitespace normalisation, or ROUGE-L F ≥ `threshold` against either.
 */
export const copiesInput = (sample: { readonly instruction: string; readonly input: string; readonly output: string }, threshold = 0.9): boolean => {
  const output = normalise(sample.output)
  if (output.length === 0) return false
  return [sample.input, sample.instruction].some((source) => {
    const normalised = normalise(source)
    if (normalised.length === 0) return false
    return normalised === output || rougeL(sample.output, source).fmeasure >= threshold
  })
}
