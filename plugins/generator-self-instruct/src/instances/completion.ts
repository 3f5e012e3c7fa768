/**
 * Reading one instance-generation completion: the parser its prompt calls for
 * (output-first for classification tasks, else input-first), and — when sampling
 * was cut at the length limit — without the last pair, which may be torn.
 * Shared by `self-instruct/instances` and `self-instruct/instance-reward`.
 *
 * @example
 * ```ts
 * import { readCompletion } from "./completion.ts"
 * readCompletion(false, "Input: 2 + 2\nOutput: 4\nExample 2\nInput: 1 + 1\nOut", true).instances.length // 1
 * ```
 */
import type { ParsedInstances } from "./parse.ts"
import { parseInputFirst, parseOutputFirst } from "./parse.ts"

/** The usable pairs of a completion and the count of unreadable blocks. */
export const readCompletion = (isClassification: boolean, text: string, lengthCut: boolean): ParsedInstances => {
  const parsed = (isClassification ? parseOutputFirst : parseInputFirst)(text)
  return lengthCut ? { instances: parsed.instances.slice(0, -1), unparsable: parsed.unparsable } : parsed
}
