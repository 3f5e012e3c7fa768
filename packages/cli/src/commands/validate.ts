/**
 * `refine-af validate <recipe> [overrides...]`: load and check a recipe
 * without running anything. Prints `ok: <n> stages, <m> resources`, or every
 * problem as `file:line:column error: ...` (exit code 2, via the CLI's error
 * reporting of `RecipeInvalid`).
 */
import { Console, Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { loadRecipe, type RecipeInvalid, type ResolvedRecipe } from "@refine-af/core"

/** The success line of `validate`. */
export const validationSummary = (recipe: ResolvedRecipe): string => {
  const stages = Object.keys(recipe.stages).length
  const resources = Object.keys(recipe.resources).length
  return `ok: ${stages} ${stages === 1 ? "stage" : "stages"}, ${resources} ${resources === 1 ? "resource" : "resources"}`
}

/** Validates `recipe` with `overrides` and returns the success line. */
export const validateRecipeFile = (
  recipe: string,
  overrides: ReadonlyArray<string> = [],
  cwd?: string
): Effect.Effect<string, RecipeInvalid> =>
  loadRecipe(recipe, cwd === undefined ? { overrides } : { overrides, cwd }).pipe(Effect.map(validationSummary))

/** `refine-af validate <recipe> [overrides...]` (wired into the command tree by cli.ts). */
export const validateCommand = Command.make(
  "validate",
  {
    recipe: Argument.String("recipe").pipe(Argument.withDescription("Recipe YAML file, e.g. recipes/quickstart.yaml")),
    overrides: Argument.String("overrides").pipe(
      Argument.withDescription("Overrides as key.path=value, e.g. seed=7 stages.gen.max_instructions=100"),
      Argument.variadic()
    )
  },
  Effect.fnUntraced(function*({ recipe, overrides }) {
    yield* Console.log(yield* validateRecipeFile(recipe, overrides))
  })
).pipe(
  Command.withDescription("Check a recipe (plugins, components, options, connections, cycles) without running it"),
  Command.withExamples([
    { command: "refine-af validate recipes/quickstart.yaml", description: "Check the quickstart recipe" },
    { command: "refine-af validate recipes/quickstart.yaml seed=7", description: "Check it with an override" }
  ])
)
