/**
 * The Super-NaturalInstructions task format (natural-instructions JSON), as a
 * Schema that decodes one task file. Only the fields evaluation needs are
 * required; everything else in the file (Contributors, Source, Domains, ...)
 * is ignored.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SuperNiTaskFile } from "@refine-af/eval-superni"
 * const task = Schema.decodeUnknownSync(SuperNiTaskFile)({
 *   Definition: ["Answer yes or no."], Categories: ["Answerability Classification"],
 *   "Positive Examples": [], Instances: [{ id: "t-1", input: "Is it?", output: ["Yes"] }]
 * })
 * ```
 */
import { Schema } from "effect"

/** One demonstration (positive or negative example) in a task file. */
export const SuperNiExample = Schema.Struct({
  input: Schema.String,
  output: Schema.String,
  explanation: Schema.optionalKey(Schema.String)
})
/** A decoded demonstration. */
export type SuperNiExample = typeof SuperNiExample.Type

/** One evaluation instance: `output` lists every acceptable reference. */
export const SuperNiInstance = Schema.Struct({
  id: Schema.String,
  input: Schema.String,
  output: Schema.Array(Schema.String)
})
/** A decoded instance. */
export type SuperNiInstance = typeof SuperNiInstance.Type

/** The fields of a natural-instructions task file that evaluation reads. */
export const SuperNiTaskFile = Schema.Struct({
  Definition: Schema.Array(Schema.String),
  Categories: Schema.Array(Schema.String),
  "Positive Examples": Schema.Array(SuperNiExample),
  "Negative Examples": Schema.optionalKey(Schema.Array(SuperNiExample)),
  Instances: Schema.Array(SuperNiInstance)
})
/** A decoded task file. */
export type SuperNiTaskFile = typeof SuperNiTaskFile.Type

/** A task ready for evaluation: named, with its instances already truncated to the first N. */
export interface SuperNiTask {
  /** Task name, e.g. `task1154_bard_analogical_reasoning_travel` (the file name without `.json`). */
  readonly name: string
  readonly definition: string
  /** The task's first category decides its reporting metric (official convention). */
  readonly category: string
  readonly positiveExamples: ReadonlyArray<SuperNiExample>
  readonly instances: ReadonlyArray<SuperNiInstance>
}

/** Converts a decoded task file into a named task, keeping the first `maxInstances` instances. */
export const toTask = (name: string, file: SuperNiTaskFile, maxInstances: number): SuperNiTask => ({
  name,
  // Definitions are lists of strings in the data; every official encoder uses the first one.
  definition: file.Definition[0] ?? "",
  category: file.Categories[0] ?? "Uncategorized",
  positiveExamples: file["Positive Examples"],
  instances: file.Instances.slice(0, maxInstances)
})
