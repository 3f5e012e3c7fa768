/**
 * Reads SuperNI tasks from a natural-instructions `tasks/` directory, optionally
 * restricted to a split file (one task name per line, e.g. the 119-task
 * `test_tasks.txt`), keeping the first N instances of each task.
 *
 * @example
 * ```ts
 * import { readTaskDir } from "@refine-af/eval-superni"
 * const tasks = readTaskDir({ dir: "natural-instructions/tasks", split: "splits/default/test_tasks.txt", maxInstances: 100 })
 * ```
 */
import { readdir, readFile } from "node:fs/promises"
import * as path from "node:path"
import { Effect } from "effect"
import { EvalDataMissing } from "../errors.ts"
import { decodeTask, parseJson } from "./decode.ts"
import type { SuperNiTask } from "./task.ts"

/** Where to read tasks from. */
export interface TaskDirOptions {
  readonly dir: string
  /** A split file listing task names; without it every `*.json` in `dir` is read, sorted by name. */
  readonly split?: string
  /** First N instances per task (the benchmark uses 100). */
  readonly maxInstances: number
}

const readText = (file: string, what: string, fix: string) =>
  Effect.tryPromise({
    try: () => readFile(file, "utf8"),
    catch: (error) => new EvalDataMissing({ path: file, message: `cannot read ${what}: ${(error as Error).message}`, fix })
  })

/** Parses a split file: one task name per line; blank lines and `#` comments are skipped. */
export const parseSplit = (text: string): ReadonlyArray<string> =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.replace(/\.json$/, ""))

const listTaskNames = (dir: string) =>
  Effect.tryPromise({
    try: () => readdir(dir),
    catch: (error) =>
      new EvalDataMissing({
        path: dir,
        message: `cannot list the task directory: ${(error as Error).message}`,
        fix: "Point `dir` at the natural-instructions `tasks/` folder (it holds one <task>.json per task)."
      })
  }).pipe(Effect.map((files) => files.filter((file) => file.endsWith(".json")).map((file) => file.slice(0, -5)).sort()))

/** Reads the tasks named by the split (or all tasks in the directory), in split order. */
export const readTaskDir = (options: TaskDirOptions) =>
  Effect.gen(function*() {
    const names = options.split === undefined
      ? yield* listTaskNames(options.dir)
      : parseSplit(yield* readText(options.split, "the split file", "Pass an existing split file (one task name per line)."))
    const tasks: Array<SuperNiTask> = []
    for (const name of names) {
      const file = path.join(options.dir, `${name}.json`)
      const text = yield* readText(
        file,
        `task "${name}"`,
        `The split names task "${name}" but ${file} is missing: download the natural-instructions tasks or remove the name from the split.`
      )
      const raw = yield* parseJson(text, { path: file })
      tasks.push(yield* decodeTask(raw, name, options.maxInstances, { path: file }))
    }
    if (tasks.length === 0) {
      return yield* new EvalDataMissing({
        path: options.split ?? options.dir,
        message: "no tasks found",
        fix: "Check that the directory holds <task>.json files and that the split lists at least one task."
      })
    }
    return tasks
  })
