/**
 * Splits a bootstrapping continuation into candidate instructions.
 *
 * The prompt ends with an open number ("9."), so the continuation's text up to
 * the first numbered line is itself an item; every later line that starts
 * with a number and a dot (or parenthesis) followed by a space begins a new
 * item. Lines that do not start a new item continue the current one, and all
 * whitespace runs collapse to single spaces. Numbers are not checked for
 * order: models repeat or skip them, and the filters judge the text, not the
 * numbering.
 *
 * @example
 * ```ts
 * import { parseNumberedInstructions } from "./parse.ts"
 * parseNumberedInstructions(" Name a fruit.\n10. list three rivers")
 * // ["Name a fruit.", "List three rivers"]
 * ```
 */

const ITEM_START = /\n[ \t]*\d+[ \t]?[.)][ \t]/

/** The candidate instructions of one continuation, in order; empty items are dropped. */
export const parseNumberedInstructions = (continuation: string): Array<string> =>
  continuation
    .replace(/\r\n?/g, "\n")
    .split(ITEM_START)
    .map(normalizeInstruction)
    .filter((item) => item.length > 0)

/**
 * Collapses whitespace and upper-cases the first character. Unlike Python's
 * `str.capitalize` (which the original code used) the rest keeps its case:
 * every filter is case-insensitive, so the decisions are the same and proper
 * nouns and acronyms survive.
 */
export const normalizeInstruction = (text: string): string => {
  const collapsed = text.replace(/\s+/g, " ").trim()
  return collapsed.length === 0 ? collapsed : collapsed[0]!.toUpperCase() + collapsed.slice(1)
}
