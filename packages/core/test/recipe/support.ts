/** Helpers shared by the recipe tests: run `loadRecipe` and get its problems or its result. */
import { Effect, Result } from "effect"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { loadRecipe, type LoadRecipeOptions, type RecipeInvalid, type ResolvedRecipe } from "@refine-af/core"

/** packages/core/test/fixtures */
export const fixturesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures")

/** Loads a recipe; the Result keeps both outcomes inspectable. */
export const load = (file: string, options: LoadRecipeOptions = {}): Promise<Result.Result<ResolvedRecipe, RecipeInvalid>> =>
  Effect.runPromise(Effect.result(loadRecipe(file, { cwd: fixturesDir, ...options })))

/** Loads a recipe that must fail and returns its error. */
export const loadInvalid = async (file: string, options: LoadRecipeOptions = {}): Promise<RecipeInvalid> => {
  const result = await load(file, options)
  if (Result.isSuccess(result)) throw new Error(`expected ${file} to be invalid, but it loaded`)
  return result.failure
}

/** Loads a recipe that must succeed and returns it (failing the test with the formatted problems otherwise). */
export const loadValid = async (file: string, options: LoadRecipeOptions = {}): Promise<ResolvedRecipe> => {
  const result = await load(file, options)
  if (Result.isFailure(result)) throw new Error(`expected ${file} to load:\n${result.failure.message}`)
  return result.success
}
