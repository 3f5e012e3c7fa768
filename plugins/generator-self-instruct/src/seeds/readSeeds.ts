/**
 * Parses Self-Instruct seed JSONL. A bad line fails with `SeedLineInvalid`
 * naming `file:line` and every problem on it, so a user fixes the file in one
 * pass.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { readSeedFile } from "./readSeeds.ts"
 * const tasks = Effect.runPromise(readSeedFile("data/seed_tasks.jsonl"))
 * ```
 */
import { readFile } from "node:fs/promises"
import { Cause, Effect, Exit, Schema } from "effect"
import { decodeTextFile } from "@refine-af/core"
import { SeedFileUnreadable, SeedLineInvalid, SeedSetInvalid } from "../errors.ts"
import { SeedTask } from "./SeedTask.ts"

const decodeSeedTask = Schema.decodeUnknownExit(SeedTask)

/** Schema failures print as "Expected string\n  at [\"id\"]" pairs; fold them into one line: "Expected string at [\"id\"]; ...". */
const describeSchemaFailure = (cause: Cause.Cause<unknown>): string => {
  const problems: Array<string> = []
  for (const raw of String((Cause.squash(cause) as { message?: unknown }).message ?? cause).split("\n")) {
    const part = raw.trim()
    if (part === "") continue
    if (part.startsWith("at ") && problems.length > 0) problems[problems.length - 1] += ` ${part}`
    else problems.push(part)
  }
  return problems.join("; ")
}

/** Parses the text of a seed file; `path` is only used in error messages. Blank lines are skipped. */
export const parseSeedTasks = (
  text: string,
  path: string
): Effect.Effect<ReadonlyArray<SeedTask>, SeedLineInvalid | SeedSetInvalid> =>
  Effect.gen(function* () {
    const tasks: Array<SeedTask> = []
    const firstLineOfId = new Map<string, number>()
    const lines = text.split(/\r?\n/)
    for (let index = 0; index < lines.length; index++) {
      const line = (lines[index] as string).trim()
      if (line === "") continue
      const lineNumber = index + 1
      const invalid = (problem: string) =>
        new SeedLineInvalid({
          path,
          line: lineNumber,
          message: `${path}:${lineNumber}: ${problem}. Fix: each line must be one JSON object {"id", "name", "instruction", "instances": [{"input", "output"}], "is_classification"}.`
        })
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        return yield* invalid(`not valid JSON (${(error as Error).message})`)
      }
      const decoded = decodeSeedTask(value, { errors: "all" })
      if (Exit.isFailure(decoded)) return yield* invalid(describeSchemaFailure(decoded.cause))
      const task = decoded.value
      const earlier = firstLineOfId.get(task.id)
      if (earlier !== undefined) return yield* invalid(`duplicate id "${task.id}" (first used on line ${earlier})`)
      firstLineOfId.set(task.id, lineNumber)
      tasks.push(task)
    }
    if (tasks.length === 0) {
      return yield* new SeedSetInvalid({
        path,
        message: `${path} holds no seed tasks. Fix: point the "seeds" option at a JSONL file with at least one task per line.`
      })
    }
    return tasks
  })

/** Reads and parses a seed JSONL file from disk. */
export const readSeedFile = (
  path: string
): Effect.Effect<ReadonlyArray<SeedTask>, SeedFileUnreadable | SeedLineInvalid | SeedSetInvalid> =>
  Effect.tryPromise({
    try: () => readFile(path),
    catch: (error) =>
      new SeedFileUnreadable({
        path,
        message: `cannot read seed file ${path} (${(error as Error).message}). Fix: check the "seeds" path (relative paths resolve from the recipe's folder).`
      })
  }).pipe(Effect.flatMap((bytes): Effect.Effect<ReadonlyArray<SeedTask>, SeedFileUnreadable | SeedLineInvalid | SeedSetInvalid> => {
    const decoded = decodeTextFile(bytes)
    if ("problem" in decoded) return Effect.fail(new SeedFileUnreadable({ path, message: `seed file ${path} ${decoded.problem}. Fix: ${decoded.fix}.` }))
    return parseSeedTasks(decoded.text, path)
  }))
