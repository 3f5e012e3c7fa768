/**
 * Recipe problems: every mistake found while loading a recipe, each tied to a
 * file position, collected before failing so the user fixes them in one pass.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { formatRecipeErrors, loadRecipe } from "@refine-af/core"
 * const check = loadRecipe("recipes/quickstart.yaml").pipe(
 *   Effect.catchTag("RecipeInvalid", (err) => Effect.sync(() => console.error(formatRecipeErrors(err))))
 * )
 * ```
 */
import { Schema } from "effect"

/** Where a problem is: a recipe file (or a CLI override) and a 1-based line and column. */
export interface SourcePosition {
  readonly file: string
  readonly line: number
  readonly column: number
}

/** One thing wrong with a recipe, with the fix when one can be named. */
export const RecipeProblem = Schema.Struct({
  file: Schema.String,
  line: Schema.Number,
  column: Schema.Number,
  message: Schema.String,
  fix: Schema.optional(Schema.String)
})
/** One thing wrong with a recipe (the decoded type of the `RecipeProblem` schema). */
export type RecipeProblem = typeof RecipeProblem.Type

/** The recipe cannot be used: `problems` lists every mistake found, in file order. */
export class RecipeInvalid extends Schema.TaggedError<RecipeInvalid>()("RecipeInvalid", {
  file: Schema.String,
  problems: Schema.Array(RecipeProblem)
}) {
  override get message(): string {
    return formatRecipeErrors(this)
  }
}

/** Builds a problem at a position. */
export const problemAt = (at: SourcePosition, message: string, fix?: string): RecipeProblem =>
  fix === undefined ? { ...at, message } : { ...at, message, fix }

/** Sorts problems by file, then line, then column, keeping the order of problems at the same place. */
export const sortProblems = (problems: ReadonlyArray<RecipeProblem>): Array<RecipeProblem> =>
  problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) =>
      a.problem.file.localeCompare(b.problem.file) || a.problem.line - b.problem.line ||
      a.problem.column - b.problem.column || a.index - b.index
    )
    .map(({ problem }) => problem)

/** Renders one problem as `file:line:column error: message; fix` on a single line. */
export const formatRecipeProblem = (problem: RecipeProblem): string => {
  const fix = problem.fix === undefined ? "" : ` — ${problem.fix}`
  return `${problem.file}:${problem.line}:${problem.column} error: ${oneLine(problem.message)}${oneLine(fix)}`
}

/** Renders every problem of a `RecipeInvalid`, one line each, no stack trace. */
export const formatRecipeErrors = (err: { readonly problems: ReadonlyArray<RecipeProblem> }): string =>
  err.problems.map(formatRecipeProblem).join("\n")

/** Problems must stay one per line even when a library message spans several. */
const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ")
