/**
 * Parses instance-generation continuations into (input, output) pairs.
 *
 * Input-first: the prompt ends with "Example 1\n", so the continuation is the
 * body of example 1, then "Example 2", ... Each body holds an optional
 * "Input:" part and an "Output:" part. Output-first: the prompt ends with
 * "Class label:", so the continuation starts with a label, then "Input:",
 * then further "Class label:" blocks. Bodies without the required marker are
 * counted as unparsable, not guessed at.
 *
 * @example
 * ```ts
 * import { parseInputFirst, parseOutputFirst } from "./parse.ts"
 * parseInputFirst("Input: 2 + 2\nOutput: 4\nExample 2\nInput: 3 + 1\nOutput: 4").instances.length // 2
 * parseOutputFirst(" Spam\nInput: Win a free phone now!").instances // [{ input: "Win a free phone now!", output: "Spam" }]
 * ```
 */
import type { TaskInstance } from "../seeds/SeedTask.ts"

/** The parsed pairs of one continuation and how many blocks could not be read. */
export interface ParsedInstances {
  readonly instances: Array<TaskInstance>
  readonly unparsable: number
}

const EXAMPLE_HEADER = /^[ \t]*Example[ \t]*\d+[ \t]*[:.]?[ \t]*$/im
const INPUT_MARKER = /^[ \t]*Input[ \t]*:/im
const OUTPUT_MARKER = /^[ \t]*Output[ \t]*:/im
const LABEL_MARKER = /^[ \t]*Class label[ \t]*:/im

const NEXT_TASK = /^[ \t]*Task[ \t]*:/im

/** Normalises line ends and drops everything from a "Task:" line on: the model has started inventing the next task. */
const ownTaskOnly = (continuation: string): string => {
  const text = continuation.replace(/\r\n?/g, "\n")
  const nextTask = text.search(NEXT_TASK)
  return nextTask < 0 ? text : text.slice(0, nextTask)
}

const clean = (text: string): string => text.replace(/\r\n?/g, "\n").trim()

const splitOn = (text: string, marker: RegExp): Array<string> => text.split(new RegExp(marker.source, "gim"))

/** Parses an input-first continuation (the text after the prompt's "Example 1\n"). */
export const parseInputFirst = (continuation: string): ParsedInstances => {
  const instances: Array<TaskInstance> = []
  let unparsable = 0
  for (const block of splitOn(ownTaskOnly(continuation), EXAMPLE_HEADER)) {
    if (block.trim() === "") continue
    const outputAt = block.search(OUTPUT_MARKER)
    if (outputAt < 0) {
      unparsable++
      continue
    }
    const beforeOutput = block.slice(0, outputAt)
    const inputAt = beforeOutput.search(INPUT_MARKER)
    const input = inputAt < 0 ? "" : clean(beforeOutput.slice(inputAt).replace(INPUT_MARKER, ""))
    const output = clean(block.slice(outputAt).replace(OUTPUT_MARKER, ""))
    instances.push({ input, output })
  }
  return { instances, unparsable }
}

/** Parses an output-first continuation (the text after the prompt's "Class label:"). */
export const parseOutputFirst = (continuation: string): ParsedInstances => {
  const instances: Array<TaskInstance> = []
  let unparsable = 0
  for (const block of splitOn(ownTaskOnly(continuation), LABEL_MARKER)) {
    if (block.trim() === "") continue
    const inputAt = block.search(INPUT_MARKER)
    const label = clean(inputAt < 0 ? block : block.slice(0, inputAt))
    const input = inputAt < 0 ? "" : clean(block.slice(inputAt).replace(INPUT_MARKER, ""))
    if (label === "" || label.includes("\n")) {
      // A label is one short line; anything else means the model left the format.
      unparsable++
      continue
    }
    instances.push({ input, output: label })
  }
  return { instances, unparsable }
}
