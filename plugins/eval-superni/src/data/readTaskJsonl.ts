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

interface PendingTask {
  readonly name: string
  /** The task object (or, for instance-per-line files, the first line, whose instances accumulate below). */
  readonly raw: Record<string, unknown>
  readonly source: { readonly path: string; readonly line: number }
  readonly instances?: Array<unknown>
}

/**
 * Decodes JSONL text (already read) into tasks; `file` is only used in errors.
 * Two line shapes are read: a whole task per line (`Instances: [...]`), or one
 * instance per line (`Instance: {...}`, the layout of SuperNI's evaluation
 * reference files), whose lines are grouped by task in order of appearance.
 */
export const parseTaskJsonl = (text: string, options: TaskJsonlOptions) =>
  Effect.gen(function*() {
    const pending = new Map<string, PendingTask>()
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
      const object = raw as Record<string, unknown>
      const perInstance = object["Instance"] !== undefined && object["Instances"] === undefined
      const seen = pending.get(name)
      if (seen !== undefined && !(perInstance && seen.instances !== undefined)) {
        return yield* new EvalDataMalformed({
          ...source,
          message: `task "${name}" appears twice`,
          fix: "Keep one line per task (or one \"Instance\" per line for every line of that task)."
        })
      }
      if (seen !== undefined) seen.instances!.push(object["Instance"])
      else pending.set(name, { name, raw: object, source, ...(perInstance ? { instances: [object["Instance"]] } : {}) })
    }
    const names = [...pending.keys()]
    const missing = options.only?.filter((name) => !pending.has(name)) ?? []
    if (missing.length > 0) {
      return yield* new EvalDataMissing({
        path: options.file,
        message: `tasks not in the set: ${missing.join(", ")}`,
        fix: "Remove them from the task list or use a set that contains them."
      })
    }
    const tasks: Array<SuperNiTask> = []
    for (const name of names) {
      if (options.only !== undefined && !options.only.includes(name)) continue
      const task = pending.get(name)!
      const raw = task.instances === undefined ? task.raw : { ...task.raw, Instances: task.instances }
      tasks.push(yield* decodeTask(raw, name, options.maxInstances, task.source))
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
