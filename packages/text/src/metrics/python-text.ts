/**
 * Python `str` semantics that the official scorers rely on and JavaScript does differently.
 * Kept in one place so the metric code reads like the Python it ports.
 */

/**
 * Python `str.lower()`: full Unicode lowercasing (U+0130 → `i` + U+0307, final sigma in
 * context). JavaScript `toLowerCase()` implements the same SpecialCasing rules (both apply the
 * Final_Sigma context and the unconditional multi-character mappings), so it is used as is;
 * the golden parity test pins this on the case-mapping examples.
 */
export const pythonLower = (text: string): string => text.toLowerCase()

/**
 * Characters Python's `str.split()` (no argument) treats as whitespace: `str.isspace()`, i.e.
 * Unicode category Zs or bidirectional class WS/B/S. Differs from JS `\s`: adds the
 * information separators U+001C–U+001F and NEL U+0085; lacks the BOM U+FEFF. Neither splits on
 * U+200B or U+180E.
 */
const PYTHON_WHITESPACE_CLASS = "[\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
const PYTHON_WHITESPACE_RUN = new RegExp(`${PYTHON_WHITESPACE_CLASS}+`)
const PYTHON_STRIP = new RegExp(`^${PYTHON_WHITESPACE_CLASS}+|${PYTHON_WHITESPACE_CLASS}+$`, "g")

/**
 * Python `s.strip()` with no argument: removes leading and trailing `str.isspace()` characters
 * only. Unlike JavaScript `trim()`, a byte-order mark U+FEFF survives (Python keeps it), while
 * U+001C–U+001F and U+0085 are removed.
 *
 * @example
 * ```ts
 * import { pythonStrip } from "@refine-af/text"
 * const kept: string = pythonStrip("\ufeffYes \n") // "\ufeffYes"
 * ```
 */
export const pythonStrip = (text: string): string => text.replace(PYTHON_STRIP, "")

/** Python `s.split()` with no separator: split on whitespace runs, drop empty pieces. */
export const pythonSplitWhitespace = (text: string): Array<string> =>
  text.split(PYTHON_WHITESPACE_RUN).filter((piece) => piece.length > 0)

/** Python `string.punctuation`: the 32 ASCII punctuation characters, nothing else. */
export const PYTHON_ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

const ASCII_PUNCTUATION_CHARACTER = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g

/** Deletes every character of Python `string.punctuation`; non-ASCII punctuation survives. */
export const deleteAsciiPunctuation = (text: string): string => text.replace(ASCII_PUNCTUATION_CHARACTER, "")
