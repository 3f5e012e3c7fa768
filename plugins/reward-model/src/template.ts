/**
 * How a sample becomes the text a reward model reads. The default is
 * OpenAssistant's dialogue format; placeholders are `{prompt}` (the
 * instruction, then the input on its own line when there is one),
 * `{instruction}`, `{input}` and `{response}` / `{output}`.
 *
 * @example
 * ```ts
 * import { oasstTemplate, renderTemplate } from "@refine-af/reward-model"
 * renderTemplate(oasstTemplate, { instruction: "Hi", input: "", output: "Hello!" })
 * // "<|prompter|>Hi<|endoftext|><|assistant|>Hello!<|endoftext|>"
 * ```
 */
import type { Sample } from "@refine-af/core"

export const oasstTemplate = "<|prompter|>{prompt}<|endoftext|><|assistant|>{response}<|endoftext|>"

/** The prompt of a sample: instruction, and the input on its own line when non-empty. */
export const promptOf = (sample: Sample): string => (sample.input.trim().length > 0 ? `${sample.instruction}\n${sample.input}` : sample.instruction)

/** Fills the template's placeholders in one pass (a placeholder inside a sample is left as is). */
export const renderTemplate = (template: string, sample: Sample): string => {
  const values: Readonly<Record<string, string>> = {
    prompt: promptOf(sample),
    instruction: sample.instruction,
    input: sample.input,
    response: sample.output,
    output: sample.output
  }
  return template.replace(/\{(prompt|instruction|input|response|output)\}/g, (_, key: string) => values[key]!)
}
