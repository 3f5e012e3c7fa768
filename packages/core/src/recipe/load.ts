/**
 * `loadRecipe`: read a recipe file, apply CLI overrides, load the plugins it
 * lists and validate everything — collecting every problem with its
 * line:column before failing. Only plugin modules are imported; no component
 * is instantiated or run.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { loadRecipe } from "@refine-af/core"
 * const program = Effect.gen(function*() {
 *   const recipe = yield* loadRecipe("recipes/quickstart.yaml", { overrides: ["seed=7"] })
 *   return recipe.order
 * })
 * ```
 */
import { Effect } from "effect"
import * as path from "node:path"
import { componentCatalog } from "../plugin/catalog.ts"
import { loadPluginList } from "../plugin/load-list.ts"
import type { JsonRecord } from "../stage/context.ts"
import { problemAt, RecipeInvalid, sortProblems, type RecipeProblem } from "./errors.ts"
import { applyOverrides } from "./overrides.ts"
import { readRecipeYaml } from "./read.ts"
import type { ResolvedRecipe } from "./resolved.ts"
import { checkPluginList, checkTopLevel } from "./structure.ts"
import { validateRecipe } from "./validate.ts"

/** Options of `loadRecipe`. */
export interface LoadRecipeOptions {
  /** `key.path=value` overrides, applied in order after parsing. */
  readonly overrides?: ReadonlyArray<string>
  /** Folder that relative recipe paths and problem file names are relative to (default: `process.cwd()`). */
  readonly cwd?: string
  /**
   * Folder that relative path options (`RecipePath`) resolve from (default: the
   * recipe file's folder). A resumed run passes its original recipe's folder.
   */
  readonly recipeDir?: string
}

const invalid = (file: string, problems: ReadonlyArray<RecipeProblem>) =>
  new RecipeInvalid({ file, problems: sortProblems(problems) })

/** Loads, overrides and fully validates the recipe in `file`. */
export const loadRecipe = (file: string, options: LoadRecipeOptions = {}): Effect.Effect<ResolvedRecipe, RecipeInvalid> =>
  Effect.gen(function*() {
    const { cwd, absolute, shown, parsed } = yield* readRecipeYaml(file, options.cwd)
    const problems: Array<RecipeProblem> = []

    const pluginList = checkPluginList(parsed.value, parsed.positions)
    problems.push(...pluginList.problems)
    const { plugins, failures } = yield* loadPluginList(
      pluginList.entries.map((entry) => entry.specifier),
      { searchFrom: [path.dirname(absolute), cwd] }
    )
    for (const failure of failures) {
      const at = parsed.positions.valueAt(["plugins", pluginList.entries[failure.index]!.index])
      problems.push(problemAt(at, failure.message, failure.fix))
    }
    const catalog = componentCatalog(plugins)

    const overridden = applyOverrides(parsed.value, options.overrides ?? [], parsed.positions, catalog)
    problems.push(...overridden.problems)
    const topLevel = checkTopLevel(overridden.document, parsed.positions, path.basename(absolute).replace(/\.ya?ml$/, ""))
    problems.push(...topLevel.problems)
    if (topLevel.outline === undefined) return yield* invalid(shown, problems)

    const validated = validateRecipe({
      file: absolute,
      recipeDir: options.recipeDir ?? path.dirname(absolute),
      shownFile: shown,
      outline: topLevel.outline,
      document: overridden.document as JsonRecord,
      plugins,
      catalog,
      positions: parsed.positions,
      pluginsIncomplete: failures.length > 0 || pluginList.problems.length > 0
    })
    problems.push(...validated.problems)
    if (problems.length > 0 || validated.recipe === undefined) return yield* invalid(shown, problems)
    return validated.recipe
  })
