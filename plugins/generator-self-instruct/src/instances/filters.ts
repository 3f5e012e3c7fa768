/**
 * Instance filters, per task: drop pairs with an empty output, an output equal
 * to the input, an over-long field, or that repeat an earlier pair; drop the
 * whole task when two of its pairs share an input but disagree on the output
 * (the task is ambiguous); then keep at most `maxInstances`.
 *
 * @example
 * ```ts
 * import { filterInstances } from "./filters.ts"
 * const options = { maxInstances: 5, maxInputWords: 150, maxOutputWords: 300 }
 * filterInstances([{ input: "2+2", output: "4" }, { input: "2+2", output: "4" }], options).kept.length // 1
 * ```
 */
import type { TaskInstance } from "../seeds/SeedTask.ts"

/** Why a pair (or a whole task) was dropped; the keys of the rejection counts. */
export type InstanceRejection = "empty_output" | "same_as_input" | "too_long" | "duplicate" | "conflicting_outputs" | "over_limit"

/** Every instance rejection reason, in filter order. */
export const instanceRejections: ReadonlyArray<InstanceRejection> = [
  "empty_output",
  "same_as_input",
  "too_long",
  "duplicate",
  "conflicting_outputs",
  "over_limit"
]

/** Limits of the instance filters. */
export interface InstanceFilterOptions {
  /** Most pairs kept per task. */
  readonly maxInstances: number
  /** Most whitespace-separated words in an input. */
  readonly maxInputWords: number
  /** Most words in an output. */
  readonly maxOutputWords: number
}

/** The filter verdict for one task. */
export interface InstanceFilterResult {
  readonly kept: ReadonlyArray<TaskInstance>
  /** Pairs dropped per reason (`conflicting_outputs` counts every pair of a dropped task). */
  readonly rejected: Readonly<Record<InstanceRejection, number>>
}

const words = (text: string): number => text.split(/\s+/).filter((word) => word.length > 0).length

/** Comparison key: case and whitespace do not make two fields different. */
const fieldKey = (text: string): string => text.replace(/\s+/g, " ").trim().toLowerCase()

/** Applies the filters to the parsed pairs of one task, in order. */
export const filterInstances = (instances: ReadonlyArray<TaskInstance>, options: InstanceFilterOptions): InstanceFilterResult => {
  const rejected = Object.fromEntries(instanceRejections.map((reason) => [reason, 0])) as Record<InstanceRejection, number>
  const valid: Array<TaskInstance> = []
  const seenPairs = new Set<string>()
  for (const instance of instances) {
    const input = fieldKey(instance.input)
    const output = fieldKey(instance.output)
    if (output === "") rejected.empty_output++
    else if (input === output) rejected.same_as_input++
    else if (words(instance.input) > options.maxInputWords || words(instance.output) > options.maxOutputWords) rejected.too_long++
    else if (seenPairs.has(JSON.stringify([input, output]))) rejected.duplicate++
    else {
      seenPairs.add(JSON.stringify([input, output]))
      valid.push(instance)
    }
  }
  const outputsByInput = new Map<string, Set<string>>()
  for (const instance of valid) {
    const input = fieldKey(instance.input)
    outputsByInput.set(input, (outputsByInput.get(input) ?? new Set()).add(fieldKey(instance.output)))
  }
  if ([...outputsByInput.values()].some((outputs) => outputs.size > 1)) {
    rejected.conflicting_outputs += valid.length
    return { kept: [], rejected }
  }
  rejected.over_limit += Math.max(0, valid.length - options.maxInstances)
  return { kept: valid.slice(0, options.maxInstances), rejected }
}
