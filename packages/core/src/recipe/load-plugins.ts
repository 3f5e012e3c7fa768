/**
 * Loads only the plugins a recipe lists, without validating its stages — for
 * `refine-af plugins --recipe` and `refine-af schema`, which must work while
 * the recipe is still being written.
 *
 * @example
 * ```ts
 * import { loadRecipePlugins } from "@refine-af/core"
 * const plugins = loadRecipePlugins("recipes/quickstart.yaml")
 * ```
 */
import { Effect } from "effect"
import * as path from "node:path"
import { loadPluginList } from "../plugin/load-list.ts"
import { problemAt, RecipeInvalid, sortProblems } from "./errors.ts"
import { readRecipeYaml } from "./read.ts"
import type { LoadedPlugin } from "./resolved.ts"
import { checkPluginList } from "./structure.ts"

/** The plugins listed by the recipe in `file`; fails when the YAML or any plugin entry is bad. */
export const loadRecipePlugins = (
  file: string,
  options: { readonly cwd?: string } = {}
): Effect.Effect<ReadonlyArray<LoadedPlugin>, RecipeInvalid> =>
  Effect.gen(function*() {
    const { absolute, shown, parsed, cwd } = yield* readRecipeYaml(file, options.cwd)
    const list = checkPluginList(parsed.value, parsed.positions)
    const { plugins, failures } = yield* loadPluginList(list.entries.map((entry) => entry.specifier), {
      searchFrom: [path.dirname(absolute), cwd]
    })
    const problems = [
      ...list.problems,
      ...failures.map((failure) =>
        problemAt(parsed.positions.valueAt(["plugins", list.entries[failure.index]!.index]), failure.message, failure.fix)
      )
    ]
    if (problems.length > 0) return yield* new RecipeInvalid({ file: shown, problems: sortProblems(problems) })
    return plugins
  })
