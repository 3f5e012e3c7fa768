/**
 * How a sample becomes the text a reward model reads. The default is
 * OpenAssistant's dialogue format; placeholders are `{prompt}` (the
 * instruction, then the input on its own line when there is one),
 * `{instruction}`, `{input}` and `{response}` / `{output}`. The value `chat`
 * ({@link CHAT_TEMPLATE}) instead renders the prompt as a user turn and the
 * output as the assistant's answer with the model's own chat template, what
 * chat-tuned reward models (Skywork-Reward-V2, ArmoRM, …) were trained on.
 *
 * @example
 * ```ts
 * import { oasstTemplate, renderTemplate } from "@refine-af/reward-model"
 * renderTemplate(oasstTemplate, { instruction: "Hi", input: "", output: "Hello!" })
 * // "<|prompter|>Hi<|endoftext|><|assistant|>Hello!<|endoftext|>"
 * ```
 */
import type { Sample } from "@refine-af/core"

/** The `template` value that renders a sample with the model's own chat template (user: the prompt; assistant: the output). */
export const CHAT_TEMPLATE = "chat"

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
