/**
 * Reads and parses a recipe file: the first step of every recipe command.
 * Fails when the file cannot be read or its YAML is unusable (broken syntax,
 * duplicate keys, tags, anchors, aliases).
 */
import { Effect } from "effect"
import { readFileSync, statSync } from "node:fs"
import * as path from "node:path"
import { problemAt, RecipeInvalid, sortProblems } from "./errors.ts"
import { parseRecipeYaml, type ParsedYaml } from "./parse-yaml.ts"

/** Largest recipe file accepted: parsing keeps positions for every node (about 40 bytes of memory per byte). */
export const maxRecipeBytes = 1048576

/** A recipe file read from disk and parsed. */
export interface RecipeYaml {
  readonly cwd: string
  /** Absolute path of the file. */
  readonly absolute: string
  /** The path shown in problems (relative to the cwd when inside it). */
  readonly shown: string
  readonly parsed: ParsedYaml
}

/** How a file is named in problems: relative to the cwd when inside it. */
export const displayPath = (file: string, cwd: string): string => {
  const relative = path.relative(cwd, file)
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative
}

/** The file's size, -1 for a folder, 0 when it cannot be stat'ed (reading it then reports why). */
const recipeSize = (file: string): number => {
  try {
    const stats = statSync(file)
    return stats.isFile() ? stats.size : stats.isDirectory() ? -1 : 0
  } catch {
    return 0
  }
}

/** Reads and parses `file` (relative to `cwd`, default `process.cwd()`). */
export const readRecipeYaml = (file: string, cwdOption?: string): Effect.Effect<RecipeYaml, RecipeInvalid> =>
  Effect.gen(function*() {
    const cwd = path.resolve(cwdOption ?? process.cwd())
    const absolute = path.resolve(cwd, file)
    const shown = displayPath(absolute, cwd)
    const size = recipeSize(absolute)
    if (size > maxRecipeBytes) {
      return yield* new RecipeInvalid({
        file: shown,
        problems: [problemAt(
          { file: shown, line: 1, column: 1 },
          `the recipe is ${(size / 1048576).toFixed(1)} MiB; recipes are limited to ${maxRecipeBytes / 1048576} MiB`,
          "keep data out of the recipe: put it in files (JSONL, a model folder) and name them in options"
        )]
      })
    }
    if (size < 0) {
      return yield* new RecipeInvalid({
        file: shown,
        problems: [problemAt({ file: shown, line: 1, column: 1 }, `the recipe path names a folder, not a file`, "pass a recipe .yaml file (`refine-af recipes ls` lists the stock recipes)")]
      })
    }
    const source = yield* Effect.try({
      try: () => readFileSync(absolute, "utf8"),
      catch: (cause) =>
        new RecipeInvalid({
          file: shown,
          problems: [problemAt(
            { file: shown, line: 1, column: 1 },
            `cannot read the recipe: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`,
            "check the path (`refine-af recipes ls` lists the stock recipes)"
          )]
        })
    })
    const parsed = parseRecipeYaml(shown, source)
    // Broken YAML, tags or aliases mean the data is not what the user meant: checking it further would mislead.
    if (parsed.problems.length > 0) return yield* new RecipeInvalid({ file: shown, problems: sortProblems(parsed.problems) })
    return { cwd, absolute, shown, parsed }
  })
