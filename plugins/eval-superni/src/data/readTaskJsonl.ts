/**
 * Reads the compact JSONL form of a SuperNI evaluation set: one task per line,
 * each line a natural-instructions task object plus a `"Task"` field with its
 * name (`task` / `name` are accepted too). Used to ship small evaluation sets (see `data/` in this package).
 *
 * @example
 * ```ts
 * import { readTaskJsonl } from "@refine-af/eval-superni"
 * const tasks = readTaskJsonl({ file: "plugins/eval-superni/data/mini-superni.jsonl", maxInstances: 100 })
 * ```
 */
import { readFile } from "node:fs/promises"
import { Effect } from "effect"
import { EvalDataMalformed, EvalDataMissing } from "../errors.ts"
import { decodeTask, parseJson } from "./decode.ts"
import { taskNameOf } from "./lenient.ts"
import type { SuperNiTask } from "./task.ts"

/** Where to read a JSONL task set from. */
export interface TaskJsonlOptions {
  readonly file: string
  /** First N instances per task. */
  readonly maxInstances: number
  /** Keep only these tasks (in file order); all when absent. */
  readonly only?: ReadonlyArray<string>
}

/** Decodes JSONL text (already read) into tasks; `file` is only used in errors. */
export const parseTaskJsonl = (text: string, options: TaskJsonlOptions) =>
  Effect.gen(function*() {
    const tasks: Array<SuperNiTask> = []
    const names = new Set<string>()
    const lines = text.split("\n")
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index]!.trim()
      if (line === "") continue
      const source = { path: options.file, line: index + 1 }
      const raw = yield* parseJson(line, source)
      const name = taskNameOf(raw)
      if (name === undefined) {
        return yield* new EvalDataMalformed({
          ...source,
          message: "the line has no \"Task\" name",
          fix: "Add \"Task\": \"<task name>\" to every line of the JSONL set."
        })
      }
      if (names.has(name)) {
        return yield* new EvalDataMalformed({ ...source, message: `task "${name}" appears twice`, fix: "Keep one line per task." })
      }
      names.add(name)
      if (options.only !== undefined && !options.only.includes(name)) continue
      tasks.push(yield* decodeTask(raw, name, options.maxInstances, source))
    }
    const missing = options.only?.filter((name) => !names.has(name)) ?? []
    if (missing.length > 0) {
      return yield* new EvalDataMissing({
        path: options.file,
        message: `tasks not in the set: ${missing.join(", ")}`,
        fix: "Remove them from the task list or use a set that contains them."
      })
    }
    if (tasks.length === 0) {
      return yield* new EvalDataMissing({ path: options.file, message: "the set holds no tasks", fix: "Add one task per line." })
    }
    return tasks
  })

/** Reads and decodes a JSONL task set. */
export const readTaskJsonl = (options: TaskJsonlOptions) =>
  Effect.tryPromise({
    try: () => readFile(options.file, "utf8"),
    catch: (error) =>
      new EvalDataMissing({
        path: options.file,
        message: `cannot read the JSONL task set: ${(error as Error).message}`,
        fix: "Pass an existing .jsonl file (one SuperNI task per line)."
      })
  }).pipe(Effect.flatMap((text) => parseTaskJsonl(text, options)))
