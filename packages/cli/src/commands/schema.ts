/**
 * `refine-af schema <recipe | plugins...> [--out file]`: a JSON Schema for
 * recipes using those plugins, for editor autocomplete and checks
 * (yaml-language-server: `# yaml-language-server: $schema=<file>`).
 */
import { Console, Effect, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { recipeJsonSchema, type LoadedPlugin, type PluginListInvalid, type RecipeInvalid } from "@refine-af/core"
import { isRecipeFile, loadPluginsFrom } from "@refine-af/core"

/** The schema file could not be written. */
export class SchemaWriteFailed extends Schema.TaggedError<SchemaWriteFailed>()("SchemaWriteFailed", {
  message: Schema.String,
  fix: Schema.String
}) {}

/** `schema` was given nothing to make a schema for. */
export class MissingSchemaSource extends Schema.TaggedError<MissingSchemaSource>()("MissingSchemaSource", {
  message: Schema.String,
  fix: Schema.String
}) {}

/** The JSON Schema text for a recipe file or a list of plugin specifiers. */
export const recipeSchemaText = (
  sources: ReadonlyArray<string>,
  cwd?: string
): Effect.Effect<{ readonly text: string; readonly plugins: ReadonlyArray<LoadedPlugin> }, RecipeInvalid | PluginListInvalid> =>
  loadPluginsFrom(sources.length === 1 && isRecipeFile(sources[0]!) ? { recipe: sources[0]! } : { specifiers: sources }, cwd).pipe(
    Effect.map((plugins) => ({ text: `${JSON.stringify(recipeJsonSchema(plugins), null, 2)}\n`, plugins }))
  )

const writeSchema = (file: string, text: string): Effect.Effect<void, SchemaWriteFailed> =>
  Effect.try({
    try: () => {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
      writeFileSync(file, text)
    },
    catch: (cause) =>
      new SchemaWriteFailed({ message: `cannot write ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, fix: "choose a writable --out path" })
  })

/** `refine-af schema <recipe | plugins...> [--recipe file] [--out file]`. */
export const schemaCommand = Command.make(
  "schema",
  {
    sources: Argument.String("recipe-or-plugins").pipe(
      Argument.withDescription("A recipe file (its plugins: list), or plugin packages / ./ paths"),
      Argument.variadic({ min: 0 })
    ),
    recipe: Flag.String("recipe").pipe(Flag.withDescription("A recipe file whose plugins: list to use (as `refine-af plugins --recipe`)"), Flag.optional),
    out: Flag.String("out").pipe(Flag.withDescription("Write the schema to this file instead of stdout"), Flag.optional)
  },
  Effect.fnUntraced(function*({ sources, recipe, out }) {
    if (Option.isSome(recipe) && sources.length > 0) {
      return yield* new MissingSchemaSource({ message: "give either --recipe or plugin packages, not both", fix: "refine-af schema --recipe <recipe.yaml>, or refine-af schema <plugin> [<plugin> ...]" })
    }
    const given = Option.isSome(recipe) ? [recipe.value] : sources
    if (given.length === 0) {
      return yield* new MissingSchemaSource({ message: "no recipe or plugin given", fix: "refine-af schema <recipe.yaml> (or --recipe <recipe.yaml>), or refine-af schema <plugin> [<plugin> ...]" })
    }
    const { text } = yield* recipeSchemaText(given)
    if (Option.isNone(out)) return yield* Console.log(text.trimEnd())
    yield* writeSchema(out.value, text)
    yield* Console.log(`wrote ${out.value}; start a recipe with \`# yaml-language-server: $schema=${out.value}\` for editor checks`)
  })
).pipe(
  Command.withDescription("Print a JSON Schema of recipes for the given plugins (editor autocomplete)"),
  Command.withExamples([
    { command: "refine-af schema recipes/quickstart.yaml --out recipe.schema.json", description: "Schema for the quickstart's plugins" },
    { command: "refine-af schema @refine-af/plugin-demo", description: "Schema for one plugin, on stdout" }
  ])
)
