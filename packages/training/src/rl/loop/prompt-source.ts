/**
 * Where an RL trainer's prompt records come from: its `prompts` input port
 * (e.g. `self-instruct/rl-prompts`), a JSONL file (`path`), or both. Every
 * record keeps its origin (`line 4 of prompts.jsonl`) so later errors name it.
 *
 * @example
 * ```ts
 * import { readPromptFile } from "@refine-af/training"
 * const prompts = readPromptFile("grpo", "/data/prompts.jsonl") // Effect<Array<NamedRecord>, StageError>
 * ```
 */
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import { decodeTextFile, StageError, type JsonRecord, type RecordStreamError, type StageInput } from "@refine-af/core"
import { namedRecords, type NamedRecord } from "./prompts.ts"

/** Parses a JSONL file of prompt records (blank lines skipped); fails naming the line that is not a JSON object. */
export const readPromptFile = (stage: string, file: string): Effect.Effect<Array<NamedRecord>, StageError> =>
  Effect.gen(function* () {
    const bytes = yield* Effect.try({
      try: () => readFileSync(file),
      catch: (e) => new StageError({ stage, message: `cannot read the prompt file ${file}: ${e instanceof Error ? e.message : String(e)}`, fix: "check the path option (relative paths resolve from the recipe's folder)" })
    })
    const decoded = decodeTextFile(bytes)
    if ("problem" in decoded) return yield* new StageError({ stage, message: `the prompt file ${file} ${decoded.problem}`, fix: decoded.fix })
    const text = decoded.text
    const out: Array<NamedRecord> = []
    const lines = text.split("\n")
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() === "") continue
      const where = `line ${i + 1} of ${file}`
      const parsed = yield* Effect.try({ try: () => JSON.parse(lines[i]!) as unknown, catch: (e) => new StageError({ stage, message: `${where} is not valid JSON (${e instanceof Error ? e.message : String(e)})`, fix: "write one JSON object per line, e.g. {\"prompt\": \"…\"}" }) })
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        return yield* new StageError({ stage, message: `${where} is not a JSON object (got ${JSON.stringify(parsed).slice(0, 60)})`, fix: "write one JSON object per line, e.g. {\"prompt\": \"…\"}" })
      out.push({ record: parsed as JsonRecord, where })
    }
    return out
  })

/** The records of the `prompts` port (when connected) followed by those of `path` (when set); fails when neither is given. */
export const loadPromptRecords = (stage: string, port: StageInput | undefined, path: string | undefined): Effect.Effect<Array<NamedRecord>, StageError | RecordStreamError> =>
  Effect.gen(function* () {
    if (port === undefined && path === undefined)
      return yield* new StageError({ stage, message: "no prompts: the input port `prompts` is not connected and no `path` is set", fix: "add `prompts: <stage>` (e.g. a self-instruct/rl-prompts stage) or `path: prompts.jsonl` (one {\"prompt\": …} object per line)" })
    return [...(port === undefined ? [] : namedRecords(port.stage, yield* port.readAll())), ...(path === undefined ? [] : yield* readPromptFile(stage, path))]
  })
