/**
 * The Alpaca instruction format (Stanford Alpaca's prompt, with and without an input) and its
 * one-turn chat form: what `sft/lora` trains on and what `self-instruct/export-hf` writes for
 * other trainers (TRL's prompt-completion and conversational formats), in one place so the two
 * cannot drift apart.
 *
 * @example
 * ```ts
 * import { alpacaPrompt, alpacaUserTurn } from "@refine-af/text"
 * alpacaPrompt({ instruction: "Add the numbers.", input: "2, 3" }).endsWith("### Response:\n") // true
 * alpacaUserTurn({ instruction: "Add the numbers.", input: "2, 3" }) // "Add the numbers.\n\n2, 3"
 * ```
 */

/** An instruction and its input ("" or whitespace: none). */
export interface AlpacaFields {
  readonly instruction: string
  readonly input: string
}

/** Stanford Alpaca's prompt for a record with an input; `{instruction}` and `{input}` are filled in. */
export const ALPACA_PROMPT =
  "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"

/** Stanford Alpaca's prompt for a record without an input. */
export const ALPACA_PROMPT_NO_INPUT =
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"

/** `template` with `{instruction}` and `{input}` filled in from `record`. */
export const fillAlpacaTemplate = (template: string, record: AlpacaFields): string =>
  template.replaceAll("{instruction}", record.instruction).replaceAll("{input}", record.input)

const hasInput = (record: AlpacaFields) => record.input.trim() !== ""

/** The Alpaca prompt of a record (the no-input prompt when its input is blank). */
export const alpacaPrompt = (record: AlpacaFields): string =>
  fillAlpacaTemplate(hasInput(record) ? ALPACA_PROMPT : ALPACA_PROMPT_NO_INPUT, record)

/** The user turn of a record as a chat: the instruction, then a blank line and the input when there is one. */
export const alpacaUserTurn = (record: AlpacaFields): string =>
  hasInput(record) ? `${record.instruction}\n\n${record.input}` : record.instruction
