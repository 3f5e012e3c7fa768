import { porterStem } from "../porter/porter-stemmer.ts"
import { pythonLower } from "./python-text.ts"

/** Options shared by the ROUGE functions. */
export interface RougeOptions {
  /** Porter-stem tokens longer than 3 characters (SuperNI: true; Self-Instruct dedup: false). Default false. */
  readonly stem?: boolean
}

// Applied AFTER lowercasing, so case mappings that produce ASCII letters (U+0130, U+212A) count.
const NON_ASCII_ALPHANUMERIC_RUN = /[^a-z0-9]+/g

/**
 * rouge_score's default tokenizer: Python lowercasing, every run of characters other than
 * ASCII a-z/0-9 becomes a separator, then (when `stem` is set) tokens of length > 3 are
 * Porter-stemmed. No Unicode normalization: NFC "café" gives "caf", NFD gives "cafe".
 *
 * @example
 * ```ts
 * import { rougeTokenize } from "@refine-af/text"
 * rougeTokenize("It's an e-mail!") // ["it", "s", "an", "e", "mail"]
 * rougeTokenize("Running dogs", { stem: true }) // ["run", "dog"]
 * ```
 */
export const rougeTokenize = (text: string, options?: RougeOptions): Array<string> => {
  const pieces = pythonLower(text).replace(NON_ASCII_ALPHANUMERIC_RUN, " ").split(" ")
  const tokens: Array<string> = []
  for (const piece of pieces) {
    if (piece.length === 0) continue
    // Stemmed output of an a-z0-9 token is still a-z0-9, so rouge_score's final ^[a-z0-9]+$ filter only drops empties.
    tokens.push(options?.stem === true && piece.length > 3 ? porterStem(piece) : piece)
  }
  return tokens
}
