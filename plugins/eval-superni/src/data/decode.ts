/**
 * Shared decoding of one task object (from a `.json` file or a JSONL line) with
 * errors that name the file, the line and what is wrong.
 */
import { Effect, Schema } from "effect"
import { EvalDataMalformed } from "../errors.ts"
import { normaliseTaskObject } from "./lenient.ts"
import { SuperNiTaskFile, toTask, type SuperNiTask } from "./task.ts"

const decodeTaskFile = Schema.decodeUnknownEffect(SuperNiTaskFile)

/** Where a task object came from, for error messages. */
export interface TaskSource {
  readonly path: string
  readonly line?: number
}

const malformed = (source: TaskSource, message: string, fix: string) =>
  new EvalDataMalformed({ path: source.path, line: source.line, message, fix })

/** Parses JSON text, failing with the file (and line) on a syntax error. */
export const parseJson = (text: string, source: TaskSource): Effect.Effect<unknown, EvalDataMalformed> =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (error) =>
      malformed(source, `not valid JSON: ${(error as Error).message}`, "Fix the JSON syntax (a task is one JSON object).")
  })

/**
 * Decodes a task object and checks what the Schema cannot: a non-empty
 * definition and at least one reference per instance (the official scorer takes
 * a max over references and crashes on an empty list).
 */
export const decodeTask = (
  raw: unknown,
  name: string,
  maxInstances: number,
  source: TaskSource
): Effect.Effect<SuperNiTask, EvalDataMalformed> =>
  Effect.gen(function*() {
    const file = yield* decodeTaskFile(normaliseTaskObject(raw, name)).pipe(
      Effect.mapError((error) =>
        malformed(
          source,
          `task "${name}" is not in the SuperNI task format: ${error.message}`,
          "Each task needs Definition (list of strings), Categories, \"Positive Examples\" and Instances ({id, input, output: [references]})."
        )
      )
    )
    if (file.Definition.length === 0 || file.Definition.every((text) => text.trim() === "")) {
      return yield* malformed(source, `task "${name}" has an empty Definition`, "Write the task instruction as the first Definition entry.")
    }
    const seen = new Set<string>()
    for (const instance of file.Instances) {
      if (instance.output.length === 0) {
        return yield* malformed(
          source,
          `instance "${instance.id}" of task "${name}" has no reference outputs`,
          "Give every instance at least one reference in its output list."
        )
      }
      if (seen.has(instance.id)) {
        return yield* malformed(source, `instance id "${instance.id}" appears twice in task "${name}"`, "Make instance ids unique within a task.")
      }
      seen.add(instance.id)
    }
    return toTask(name, file, maxInstances)
  })
