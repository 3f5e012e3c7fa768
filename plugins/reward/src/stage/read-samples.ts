/**
 * Reads scoring samples from a JSONL file: one JSON object per line with the
 * instruction, input and output under configurable field names (a missing
 * input is ""). Errors name the file, the line and the fix.
 *
 * @example
 * ```ts
 * import { parseSampleLines } from "@refine-af/reward"
 * parseSampleLines('{"instruction":"Add","output":"4"}\n', "s.jsonl", { instruction: "instruction", input: "input", output: "output" })
 * ```
 */
import type { JsonRecord, Sample } from "@refine-af/core"

export interface SampleFields {
  readonly instruction: string
  readonly input: string
  readonly output: string
}

/** A problem with a sample file (line is 1-based, 0 for the whole file). */
export class SampleFileError extends Error {
  constructor(readonly file: string, readonly line: number, readonly problem: string, readonly fix: string) {
    super(`${file}${line > 0 ? `:${line}` : ""}: ${problem}`)
  }
}

/** The sample of one record, or a description of what is wrong with it. */
export const sampleOf = (record: JsonRecord, fields: SampleFields): Sample | string => {
  const text = (field: string, optional: boolean): string | undefined => {
    const value = record[field]
    if (value === undefined || value === null) return optional ? "" : undefined
    return typeof value === "string" ? value : undefined
  }
  const instruction = text(fields.instruction, false)
  const input = text(fields.input, true)
  const output = text(fields.output, false)
  if (instruction === undefined) return `field "${fields.instruction}" is missing or not a string`
  if (input === undefined) return `field "${fields.input}" is not a string`
  if (output === undefined) return `field "${fields.output}" is missing or not a string`
  return { instruction, input, output }
}

/** Parses JSONL text into records and their samples; throws `SampleFileError` on the first bad line. */
export const parseSampleLines = (
  text: string,
  file: string,
  fields: SampleFields
): Array<{ readonly record: JsonRecord; readonly sample: Sample }> => {
  const out: Array<{ record: JsonRecord; sample: Sample }> = []
  text.split("\n").forEach((line, index) => {
    if (line.trim().length === 0) return
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch (cause) {
      throw new SampleFileError(file, index + 1, `not JSON (${String(cause)})`, "write one JSON object per line")
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      throw new SampleFileError(file, index + 1, "not a JSON object", "write one JSON object per line")
    }
    const sample = sampleOf(record as JsonRecord, fields)
    if (typeof sample === "string") {
      throw new SampleFileError(file, index + 1, sample, `give every line string "${fields.instruction}" and "${fields.output}" fields, or set the field options`)
    }
    out.push({ record: record as JsonRecord, sample })
  })
  return out
}
