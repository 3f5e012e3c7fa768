/**
 * Picks the reader from the `tasks` option: a `.jsonl` file is the compact
 * form, anything else a natural-instructions task directory (with an optional
 * split file).
 */
import * as path from "node:path"
import { Effect } from "effect"
import { readTaskDir } from "../data/readTaskDir.ts"
import { readTaskJsonl } from "../data/readTaskJsonl.ts"
import type { SuperNiTask } from "../data/task.ts"
import type { EvalDataMalformed, EvalDataMissing } from "../errors.ts"

/** Where the tasks come from. Relative paths resolve against `cwd`. */
export interface TaskSourceOptions {
  readonly tasks: string
  readonly split?: string | undefined
  readonly onlyTasks?: ReadonlyArray<string> | undefined
  readonly maxInstances: number
}

/** Reads the evaluation tasks named by the options. */
export const loadTasks = (
  options: TaskSourceOptions,
  cwd: string = process.cwd()
): Effect.Effect<ReadonlyArray<SuperNiTask>, EvalDataMissing | EvalDataMalformed> => {
  const tasks = path.resolve(cwd, options.tasks)
  if (tasks.endsWith(".jsonl")) {
    return readTaskJsonl({
      file: tasks,
      maxInstances: options.maxInstances,
      ...(options.onlyTasks === undefined ? {} : { only: options.onlyTasks })
    })
  }
  return readTaskDir({
    dir: tasks,
    maxInstances: options.maxInstances,
    ...(options.split === undefined ? {} : { split: path.resolve(cwd, options.split) })
  }).pipe(
    Effect.map((all) => (options.onlyTasks === undefined ? all : all.filter((task) => options.onlyTasks!.includes(task.name))))
  )
}
