/**
 * Prompt templates for instance generation, in our own words:
 * - input-first (non-classification): the model writes an input, then its output;
 * - output-first (classification): the model writes a class label first, then an
 *   input of that class, so labels are not all the majority class.
 *
 * A template is plain text with one `{instruction}` placeholder; it is sent
 * with the placeholder replaced, and the model continues from the end. A
 * recipe may replace either template with a file (`templates.inputFirst`,
 * `templates.outputFirst`); its id in lineage is `file:<name>@<sha256 prefix>`.
 *
 * @example
 * ```ts
 * import { builtinTemplates, fillTemplate } from "./templates.ts"
 * fillTemplate(builtinTemplates.inputFirst, "Reverse the word.").endsWith("Task: Reverse the word.\nExample 1\n") // true
 * ```
 */
import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import { basename } from "node:path"
import { Effect } from "effect"
import { TemplateInvalid } from "../errors.ts"

/** A prompt template and the id lineage records for it. */
export interface PromptTemplate {
  readonly id: string
  readonly text: string
}

const PLACEHOLDER = "{instruction}"

const INPUT_FIRST = `Write worked examples for each task below. Every example gives an input and the correct output for that input. Write several different examples when the task allows it. When a task needs no input, leave the input empty and give only the output.

Task: Convert the temperature from degrees Celsius to degrees Fahrenheit.
Example 1
Input: 25 degrees Celsius
Output: 77 degrees Fahrenheit
Example 2
Input: -10 degrees Celsius
Output: 14 degrees Fahrenheit

Task: Suggest a name for a pet goldfish.
Example 1
Input:
Output: Captain Bubbles

Task: Find the longest word in the sentence.
Example 1
Input: The committee postponed the announcement until Friday.
Output: announcement
Example 2
Input: Cats nap often.
Output: often

Task: Give a tip for staying focused while studying.
Example 1
Input:
Output: Put your phone in another room and work in 25-minute blocks with short breaks.

Task: {instruction}
Example 1
`

const OUTPUT_FIRST = `Each task below sorts its input into one of a few class labels. For each possible label, first write the label, then write an input that belongs to that label. When a task needs no input, write only the label.

Task: Decide whether the restaurant review is positive or negative.
Class label: Positive
Input: The soup was hot, the staff were friendly and the bill was fair.
Class label: Negative
Input: We waited an hour and the pasta arrived cold.

Task: Tell whether the number is even or odd.
Class label: Even
Input: 148
Class label: Odd
Input: 73

Task: Is the statement a fact or an opinion?
Class label: Fact
Input: Water boils at 100 degrees Celsius at sea level.
Class label: Opinion
Input: Summer is the best season of the year.

Task: {instruction}
Class label:`

/** The bundled templates. */
export const builtinTemplates = {
  inputFirst: { id: "input-first/v1", text: INPUT_FIRST } satisfies PromptTemplate,
  outputFirst: { id: "output-first/v1", text: OUTPUT_FIRST } satisfies PromptTemplate
} as const

/** The prompt for one instruction (whitespace runs in the instruction collapse so it stays on the Task line). */
export const fillTemplate = (template: PromptTemplate, instruction: string): string =>
  template.text.replace(PLACEHOLDER, instruction.replace(/\s+/g, " ").trim())

/** Reads a template file; it must contain `{instruction}` exactly once. */
export const readTemplateFile = (path: string): Effect.Effect<PromptTemplate, TemplateInvalid> =>
  Effect.gen(function* () {
    const text = yield* Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (error) =>
        new TemplateInvalid({ path, message: `cannot read template ${path} (${(error as Error).message}). Fix: check the templates path in the recipe.` })
    })
    const occurrences = text.split(PLACEHOLDER).length - 1
    if (occurrences !== 1) {
      return yield* new TemplateInvalid({
        path,
        message: `template ${path} contains ${PLACEHOLDER} ${occurrences} times. Fix: put the placeholder exactly once, where the task's instruction goes (usually near the end).`
      })
    }
    const digest = createHash("sha256").update(text).digest("hex").slice(0, 12)
    return { id: `file:${basename(path)}@${digest}`, text }
  })
