/**
 * Reading the fields this plugin needs from upstream records, with an error
 * that names the record and the fix instead of a crash deep in a stage.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { instructionOf } from "./upstream.ts"
 * Effect.runSync(instructionOf({ instruction: "Name a planet." }, 0)) // "Name a planet."
 * ```
 */
import { Effect } from "effect"
import type { JsonRecord } from "@refine-af/core"
import { InputRecordInvalid } from "./errors.ts"

/** The non-empty `instruction` string of upstream record number `index`. */
export const instructionOf = (record: JsonRecord, index: number): Effect.Effect<string, InputRecordInvalid> => {
  const instruction = record["instruction"]
  return typeof instruction === "string" && instruction.trim() !== ""
    ? Effect.succeed(instruction)
    : Effect.fail(
        new InputRecordInvalid({
          index,
          message: `upstream record ${index} has no non-empty "instruction" string (got ${JSON.stringify(instruction) ?? "nothing"}). Fix: connect this stage to a stage that emits instruction records, such as self-instruct/bootstrap.`
        })
      )
}

/** `is_classification` of an upstream record when it is a boolean, else `undefined` (not decided yet). */
export const classificationOf = (record: JsonRecord): boolean | undefined => {
  const value = record["is_classification"]
  return typeof value === "boolean" ? value : undefined
}

/** The string array `field` of a record, or [] when absent or malformed (lineage fields are best-effort). */
export const stringsOf = (record: JsonRecord, field: string): Array<string> => {
  const value = record[field]
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : []
}
