/**
 * The Self-Instruct bootstrapping prompt: a header line, the shown pool
 * instructions as a numbered list, and the next number left open for the
 * model to continue ("9." after eight items).
 *
 * @example
 * ```ts
 * import { encodeBootstrapPrompt } from "./prompt.ts"
 * encodeBootstrapPrompt(["Sort the numbers.", "Name a colour:"])
 * // "Come up with a series of tasks:\n1. Sort the numbers.\n2. Name a colour\n3."
 * ```
 */

/** The paper's header line (Self-Instruct, Table 5). */
export const defaultBootstrapHeader = "Come up with a series of tasks:"

/**
 * Builds the prompt. Whitespace runs in an instruction collapse to one space
 * and a trailing colon is dropped, so every item stays on one line and the
 * model is not nudged into writing an input after it.
 */
export const encodeBootstrapPrompt = (
  instructions: ReadonlyArray<string>,
  header: string = defaultBootstrapHeader
): string => {
  let prompt = `${header.replace(/\s+$/, "")}\n`
  instructions.forEach((instruction, index) => {
    const oneLine = instruction.replace(/\s+/g, " ").trim().replace(/:+$/, "")
    prompt += `${index + 1}. ${oneLine}\n`
  })
  return `${prompt}${instructions.length + 1}.`
}
