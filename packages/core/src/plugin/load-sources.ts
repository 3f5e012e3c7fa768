/**
 * Where commands such as `refine-af plugins` and `refine-af schema` get their plugins: the `plugins:` list of a
 * recipe, or package names / paths given on the command line.
 */
import { Effect } from "effect"
import type { RecipeInvalid } from "../recipe/errors.ts"
import { loadRecipePlugins } from "../recipe/load-plugins.ts"
import type { LoadedPlugin } from "../recipe/resolved.ts"
import { PluginListInvalid } from "./errors.ts"
import { loadPluginList } from "./load-list.ts"

/** True when the argument names a recipe file rather than a plugin. */
export const isRecipeFile = (argument: string): boolean => /\.ya?ml$/i.test(argument)

/** Loads the plugins of a recipe, or the given specifiers (resolved from `cwd`). */
export const loadPluginsFrom = (
  source: { readonly recipe: string } | { readonly specifiers: ReadonlyArray<string> },
  cwd: string = process.cwd()
): Effect.Effect<ReadonlyArray<LoadedPlugin>, RecipeInvalid | PluginListInvalid> => {
  if ("recipe" in source) return loadRecipePlugins(source.recipe, { cwd })
  if (source.specifiers.length === 0) {
    return Effect.fail(new PluginListInvalid({
      message: "no plugins given",
      fix: "name a recipe (--recipe recipes/quickstart.yaml) or plugin packages (@refine-af/plugin-demo)"
    }))
  }
  return loadPluginList(source.specifiers, { searchFrom: [cwd] }).pipe(Effect.flatMap(({ plugins, failures }) =>
    failures.length === 0
      ? Effect.succeed(plugins)
      : Effect.fail(new PluginListInvalid({
        message: failures.map((failure) => `${failure.message}${failure.fix === undefined ? "" : ` — ${failure.fix}`}`).join("\n  "),
        fix: "check the package names (npm ls) or paths"
      }))
  ))
}
