/**
 * A human-written seed task in Self-Instruct's format (one JSON object per
 * line of a `.jsonl` file).
 *
 * @example
 * ```ts
 * import type { SeedTask } from "./SeedTask.ts"
 * const task: SeedTask = {
 *   id: "seed_0", name: "antonym", instruction: "Give the opposite of the word.",
 *   instances: [{ input: "early", output: "late" }], is_classification: false
 * }
 * ```
 */
import { Schema } from "effect"

/** One (input, output) example of a task; `input` is "" when the task needs none. */
export const TaskInstance = Schema.Struct({
  input: Schema.String,
  output: Schema.String
})
/** One decoded (input, output) example. */
export type TaskInstance = typeof TaskInstance.Type

/** The seed line schema: `id, name, instruction, instances[{input, output}], is_classification`. */
export const SeedTask = Schema.Struct({
  id: Schema.NonEmptyString,
  name: Schema.optionalKey(Schema.String),
  instruction: Schema.NonEmptyString,
  instances: Schema.Array(TaskInstance),
  is_classification: Schema.Boolean
})
/** One decoded seed task. */
export type SeedTask = typeof SeedTask.Type
