/**
 * `refine-af recipes ls` lists the stock recipes with their description;
 * `refine-af recipes cp <name> <dest>` copies one so you can edit it (refusing
 * to overwrite without `--force`).
 *
 * The recipes folder is the first of: `recipes/` in the cwd or a folder above
 * it (a project's own), the CLI package's `recipes/` (an installed CLI ships
 * them: tools/pack copies them in with scripts/bundle-recipes.mjs), and the
 * repository's `recipes/` (the CLI run from a checkout).
 */
import { Console, Effect, Result, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { didYouMeanSuffix, readRecipeYaml } from "@refine-af/core"

/** The CLI package's folder (packages/cli in a checkout, node_modules/@refine-af/cli once installed). */
const cliPackageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

/** The repository's stock recipes folder (packages/cli → ../../recipes). */
export const stockRecipesDir = path.resolve(cliPackageDir, "../../recipes")

/** Where stock recipes are looked for, in order (see the module doc). */
export const stockRecipeCandidates = (cwd: string = process.cwd()): Array<string> => {
  const above: Array<string> = [path.resolve(cwd)]
  while (path.dirname(above.at(-1)!) !== above.at(-1)) above.push(path.dirname(above.at(-1)!))
  return [...above.map((dir) => path.join(dir, "recipes")), path.join(cliPackageDir, "recipes"), stockRecipesDir]
}

/** The first candidate folder that holds at least one recipe, if any. */
export const findStockRecipesDir = (cwd: string = process.cwd()): string | undefined =>
  stockRecipeCandidates(cwd).find((dir) => recipeFiles(dir).length > 0)

/** One stock recipe: its name (path under recipes/ without .yaml) and description line. */
export interface StockRecipe {
  readonly name: string
  readonly file: string
  readonly description: string
}

/** No stock recipe has that name. */
export class UnknownStockRecipe extends Schema.TaggedError<UnknownStockRecipe>()("UnknownStockRecipe", {
  message: Schema.String,
  fix: Schema.String
}) {}

/** The copy would overwrite an existing file and `--force` was not given: a usage error (exit 2). */
export class RecipeCopyRefused extends Schema.TaggedError<RecipeCopyRefused>()("RecipeCopyRefused", {
  message: Schema.String,
  fix: Schema.String
}) {}

/** The copy could not be written. */
export class RecipeCopyFailed extends Schema.TaggedError<RecipeCopyFailed>()("RecipeCopyFailed", {
  message: Schema.String,
  fix: Schema.String
}) {}

const recipeFiles = (dir: string): Array<string> =>
  !existsSync(dir) || !statSync(dir).isDirectory()
    ? []
    : readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) return recipeFiles(full)
      return /\.ya?ml$/.test(entry.name) ? [full] : []
    })

/** The recipe's `description:` (first line), else its first comment line. */
const descriptionOf = (file: string): string => {
  const parsed = Effect.runSync(Effect.result(readRecipeYaml(file)))
  // A stock recipe that does not parse still gets listed, described by its first comment.
  const data = Result.isSuccess(parsed) ? parsed.success.parsed.value : undefined
  const description = typeof data === "object" && data !== null ? (data as { description?: unknown }).description : undefined
  if (typeof description === "string" && description.trim() !== "") return description.trim().split("\n")[0]!
  const source = readFileSync(file, "utf8")
  const comment = source.split("\n").find((line) => /^#\s*\S/.test(line))
  return comment?.replace(/^#\s*/, "") ?? ""
}

/** Every stock recipe in `dir` (default: the folder `findStockRecipesDir` picks), sorted by name. */
export const listStockRecipes = (dir: string = findStockRecipesDir() ?? stockRecipesDir): Array<StockRecipe> =>
  recipeFiles(dir)
    .map((file) => ({ name: path.relative(dir, file).replace(/\.ya?ml$/, "").split(path.sep).join("/"), file, description: descriptionOf(file) }))
    .sort((a, b) => a.name.localeCompare(b.name))

/** The `recipes ls` table. */
export const formatStockRecipes = (recipes: ReadonlyArray<StockRecipe>): string => {
  if (recipes.length === 0) return "no stock recipes found (looked for recipes/ in the current folder and above, and next to the refine-af CLI)"
  const width = Math.max(...recipes.map((recipe) => recipe.name.length))
  return recipes.map((recipe) => `${recipe.name.padEnd(width)}  ${recipe.description}`.trimEnd()).join("\n")
}

/**
 * The files a recipe names by a path relative to its own folder that exist there (an example's
 * data file: `path: sft-data.jsonl`), relative to that folder. Paths resolve next to the recipe,
 * so a copy elsewhere needs them beside it. Folders (downloads such as ./models/x) are left out.
 */
export const recipeCompanionFiles = (file: string): Array<string> => {
  const parsed = Effect.runSync(Effect.result(readRecipeYaml(file)))
  if (!Result.isSuccess(parsed)) return []
  const dir = path.dirname(file)
  const found = new Set<string>()
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit)
    if (typeof value === "object" && value !== null) return Object.values(value).forEach(visit)
    if (typeof value !== "string" || value === "" || path.isAbsolute(value) || /^[a-z][a-z0-9+.-]*:/i.test(value)) return
    const relative = path.relative(dir, path.resolve(dir, value))
    if (relative.startsWith("..") || path.isAbsolute(relative)) return
    try {
      if (statSync(path.join(dir, relative)).isFile()) found.add(relative)
    } catch { /* not a file next to the recipe */ }
  }
  visit(parsed.success.parsed.value)
  return [...found].sort()
}

const sameBytes = (a: string, b: string): boolean => {
  try {
    return readFileSync(a).equals(readFileSync(b))
  } catch {
    return false
  }
}

/**
 * Copies stock recipe `name` to `dest` (a file, or a folder to copy into), with the files it names
 * next to it (`recipeCompanionFiles`); returns the written recipe and those files' paths. An
 * existing destination is overwritten only with `force` (a data file identical to the stock one is
 * no clash).
 */
export const copyStockRecipe = (
  name: string,
  dest: string,
  options: { readonly force?: boolean; readonly dir?: string } = {}
): Effect.Effect<{ readonly recipe: string; readonly files: ReadonlyArray<string> }, UnknownStockRecipe | RecipeCopyRefused | RecipeCopyFailed> =>
  Effect.gen(function*() {
    const recipes = listStockRecipes(options.dir)
    const wanted = name.replace(/\.ya?ml$/, "")
    const recipe = recipes.find((candidate) => candidate.name === wanted)
    if (recipe === undefined) {
      return yield* new UnknownStockRecipe({
        message: `no stock recipe named "${name}"${didYouMeanSuffix(wanted, recipes.map((candidate) => candidate.name))}`,
        fix: "run `refine-af recipes ls` to see the stock recipes"
      })
    }
    const isFolder = existsSync(dest) && statSync(dest).isDirectory()
    const target = isFolder ? path.join(dest, path.basename(recipe.file)) : dest
    const companions = recipeCompanionFiles(recipe.file).map((relative) => ({
      from: path.join(path.dirname(recipe.file), relative),
      to: path.join(path.dirname(target), relative)
    }))
    const copies = [{ from: recipe.file, to: target }, ...companions]
    // The recipe is the user's to edit: any file there is a clash. A data file already there as it is in the stock folder is not.
    const clashes = copies.filter((copy, index) => existsSync(copy.to) && (index === 0 || !sameBytes(copy.from, copy.to)))
    if (clashes.length > 0 && options.force !== true) {
      return yield* new RecipeCopyRefused({
        message: `${clashes.map((copy) => copy.to).join(", ")} already exist${clashes.length === 1 ? "s" : ""}`,
        fix: "pass --force to overwrite, or choose another destination"
      })
    }
    for (const copy of copies) {
      yield* Effect.try({
        try: () => {
          mkdirSync(path.dirname(path.resolve(copy.to)), { recursive: true })
          copyFileSync(copy.from, copy.to)
        },
        catch: (cause) =>
          new RecipeCopyFailed({ message: `cannot write ${copy.to}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, fix: "choose a writable destination" })
      })
    }
    return { recipe: target, files: companions.map((copy) => copy.to) }
  })

const lsCommand = Command.make("ls", {}, () => Console.log(formatStockRecipes(listStockRecipes()))).pipe(
  Command.withDescription("List the stock recipes with their descriptions")
)

const cpCommand = Command.make(
  "cp",
  {
    name: Argument.String("name").pipe(Argument.withDescription("Stock recipe name, as `recipes ls` shows it")),
    dest: Argument.String("dest").pipe(Argument.withDescription("Destination file or folder")),
    force: Flag.Boolean("force").pipe(Flag.withDescription("Overwrite an existing file"), Flag.withDefault(false))
  },
  Effect.fnUntraced(function*({ name, dest, force }) {
    const { recipe, files } = yield* copyStockRecipe(name, dest, { force })
    const beside = files.length === 0 ? "" : ` (with ${files.map((file) => path.basename(file)).join(", ")}, which it names)`
    yield* Console.log(`copied ${name} to ${recipe}${beside}; edit it, then: refine-af validate ${recipe}`)
  })
).pipe(Command.withDescription("Copy a stock recipe so you can edit it"))

/** `refine-af recipes ls` and `refine-af recipes cp <name> <dest> [--force]`. */
export const recipesCommand = Command.make("recipes").pipe(
  Command.withDescription("Stock recipes: list them, copy one to edit"),
  Command.withSubcommands([lsCommand, cpCommand]),
  Command.withExamples([
    { command: "refine-af recipes ls", description: "List the stock recipes" },
    { command: "refine-af recipes cp quickstart my-run.yaml", description: "Copy the quickstart recipe to edit it" }
  ])
)

