/**
 * The paper's cheap instruction filters, applied in this order before the
 * ROUGE-L novelty check: word count, keyword list, forbidden prefixes,
 * leading punctuation, leading non-ASCII character.
 *
 * @example
 * ```ts
 * import { defaultInstructionFilters, makeInstructionFilter } from "./filters.ts"
 * const reject = makeInstructionFilter(defaultInstructionFilters)
 * reject("Draw a map of your town.") // "blacklisted_keyword"
 * reject("Give three synonyms for happy.") // undefined (kept)
 * ```
 */

/** Why a candidate instruction was dropped; also the keys of the rejection counts. */
export type InstructionRejection =
  | "too_short"
  | "too_long"
  | "blacklisted_keyword"
  | "forbidden_prefix"
  | "leading_punctuation"
  | "leading_non_ascii"
  | "too_similar"

/** Every rejection reason, in filter order (for stable reports). */
export const instructionRejections: ReadonlyArray<InstructionRejection> = [
  "too_short",
  "too_long",
  "blacklisted_keyword",
  "forbidden_prefix",
  "leading_punctuation",
  "leading_non_ascii",
  "too_similar"
]

/** Thresholds and lists of the cheap filters. */
export interface InstructionFilterOptions {
  /** Fewest whitespace-separated words a kept instruction has (the paper drops 3 or fewer, so 4). */
  readonly minWords: number
  /** Most words a kept instruction has (150). */
  readonly maxWords: number
  /** Whole words or phrases (case-insensitive) that mark tasks a text-only model cannot do. */
  readonly blacklist: ReadonlyArray<string>
  /** Case-insensitive prefixes that drop an instruction ("Write a program"). */
  readonly forbiddenPrefixes: ReadonlyArray<string>
}

/** The paper's values. */
export const defaultInstructionFilters: InstructionFilterOptions = {
  minWords: 4,
  maxWords: 150,
  blacklist: ["image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps", "draw", "plot", "go to"],
  forbiddenPrefixes: ["Write a program"]
}

/** Python's `string.punctuation`. */
const ASCII_PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Builds the filter once (the keyword pattern is compiled here); returns the first failing rule or `undefined`. */
export const makeInstructionFilter = (
  options: InstructionFilterOptions
): ((instruction: string) => Exclude<InstructionRejection, "too_similar"> | undefined) => {
  const keywordPattern =
    options.blacklist.length === 0
      ? undefined
      : new RegExp(`\\b(?:${options.blacklist.map(escapeRegExp).join("|")})\\b`, "i")
  const prefixes = options.forbiddenPrefixes.map((prefix) => prefix.toLowerCase())
  return (instruction) => {
    const words = instruction.split(/\s+/).filter((word) => word.length > 0).length
    if (words < options.minWords) return "too_short"
    if (words > options.maxWords) return "too_long"
    if (keywordPattern?.test(instruction)) return "blacklisted_keyword"
    const lower = instruction.toLowerCase()
    if (prefixes.some((prefix) => lower.startsWith(prefix))) return "forbidden_prefix"
    const first = instruction[0] ?? ""
    if (ASCII_PUNCTUATION.has(first)) return "leading_punctuation"
    if (first.charCodeAt(0) > 0x7f) return "leading_non_ascii"
    return undefined
  }
}
