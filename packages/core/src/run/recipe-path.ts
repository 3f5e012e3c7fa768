/**
 * Relative paths in a recipe's options (seed files, data folders, model
 * folders) mean "next to the recipe", wherever the run is started from.
 *
 * @example
 * ```ts
 * import { resolveRecipePath } from "@refine-af/core"
 * // in a stage's run, with `seeds: data/seeds.jsonl` in the recipe at /home/me/exp/recipe.yaml
 * const file = resolveRecipePath(ctx, ctx.options.seeds) // /home/me/exp/data/seeds.jsonl
 * ```
 */
import * as path from "node:path"

/** The folder of the original recipe file of a run (older manifests only recorded the file). */
export const recipeDirOf = (manifest: { readonly recipeDir?: string; readonly recipeFile: string }): string =>
  manifest.recipeDir ?? path.dirname(manifest.recipeFile)

/**
 * `p` as an absolute path: unchanged when already absolute, otherwise relative
 * to `ctx.recipeDir` (the cwd when the context has none, e.g. in a test harness).
 * A leading `~/` means the home folder.
 */
export const resolveRecipePath = (ctx: { readonly recipeDir?: string | undefined }, p: string): string => {
  if (p === "~" || p.startsWith("~/")) return path.join(process.env["HOME"] ?? "~", p.slice(1))
  return path.resolve(ctx.recipeDir ?? process.cwd(), p)
}
