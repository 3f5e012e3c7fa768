/**
 * Path-valued options. A component declares an option that names an input
 * file or folder with `RecipePath(kind)`; the core then
 * - resolves it once, from the recipe's folder (`~/` = home), so the
 *   component receives an absolute path (no `resolveRecipePath` needed),
 * - checks at `validate` time that it exists (and is a file / folder),
 * - hashes its content into the identity of the stage or resource, so a file
 *   overwritten at the same path is never served from the cache.
 * Paths nested in structs, arrays and optional values are found too.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { RecipePath } from "@refine-af/core"
 * const options = Schema.Struct({
 *   path: RecipePath("dir", "Hugging Face model folder"),
 *   seeds: Schema.optional(RecipePath("file"))
 * })
 * ```
 */
import { Schema, SchemaAST } from "effect"
import * as path from "node:path"

/** What a path option must name. */
export type PathKind = "file" | "dir" | "any"

/** The annotation key that marks a string Schema as a recipe path. */
export const recipePathAnnotation = "refine-af/recipePath"

/** The annotation key of a path option's content check (see {@link PathCheck}). */
export const recipePathCheckAnnotation = "refine-af/recipePathCheck"

/**
 * A check of what an existing path holds, run by `validate` (and so before a run
 * allocates anything): a model folder's `config.json` sizes, a file's format.
 * Returns the problem and its fix, or undefined when the path is usable. It must
 * be synchronous and cheap (read small files only).
 */
export type PathCheck = (absolute: string) => { readonly problem: string; readonly fix: string } | undefined

/**
 * A string option naming an existing file or folder, relative to the recipe's folder;
 * `check` (optional) looks inside it at `validate` time.
 */
export const RecipePath = (kind: PathKind = "any", description?: string, check?: PathCheck) =>
  Schema.String.annotate({
    [recipePathAnnotation]: kind,
    ...(check === undefined ? {} : { [recipePathCheckAnnotation]: check }),
    description: description ?? `path of an existing ${kind === "dir" ? "folder" : kind === "file" ? "file" : "file or folder"}, relative to the recipe's folder`
  })

/** One path option found in a decoded options value. */
export interface PathOption {
  /** Where it is in the options (`["lora"]`, `["builtin", "cacheDir"]`, `["files", 2]`). */
  readonly at: ReadonlyArray<string | number>
  readonly kind: PathKind
  /** The value as written. */
  readonly value: string
  /** Absolute path (resolved from the recipe folder). */
  readonly absolute: string
  /** The component's check of what the path holds, if it declared one. */
  readonly check?: PathCheck
}

/** `p` resolved from `recipeDir` (absolute paths unchanged, `~/` = home). */
export const resolveFrom = (recipeDir: string, p: string): string => {
  if (p === "~" || p.startsWith("~/")) return path.join(process.env["HOME"] ?? "~", p.slice(1))
  return path.resolve(recipeDir, p)
}

/** What a path option must name, or undefined when `ast` is not a path option. */
export const recipePathKind = (ast: SchemaAST.AST): PathKind | undefined => SchemaAST.resolveAt<PathKind>(recipePathAnnotation)(ast)
const kindOf = recipePathKind
const checkOf = (ast: SchemaAST.AST): PathCheck | undefined => SchemaAST.resolveAt<PathCheck>(recipePathCheckAnnotation)(ast)

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

/** Walks `ast` and `value` together; `visit` may replace a path value. */
const walk = (
  ast: SchemaAST.AST,
  value: unknown,
  at: ReadonlyArray<string | number>,
  visit: (kind: PathKind, value: string, at: ReadonlyArray<string | number>, ast: SchemaAST.AST) => string
): unknown => {
  const kind = kindOf(ast)
  if (kind !== undefined && typeof value === "string") return visit(kind, value, at, ast)
  if (SchemaAST.isUnion(ast)) {
    let current = value
    for (const member of ast.types) current = walk(member, current, at, visit)
    return current
  }
  if (SchemaAST.isObjects(ast) && isRecord(value)) {
    let copy: Record<string, unknown> | undefined
    for (const signature of ast.propertySignatures) {
      const key = String(signature.name)
      if (!(key in value)) continue
      const next = walk(signature.type, value[key], [...at, key], visit)
      if (next !== value[key]) (copy ??= { ...value })[key] = next
    }
    return copy ?? value
  }
  if (SchemaAST.isArrays(ast) && Array.isArray(value)) {
    let copy: Array<unknown> | undefined
    value.forEach((item, index) => {
      const element = ast.elements[index] ?? ast.rest[0]
      if (element === undefined) return
      const next = walk(element, item, [...at, index], visit)
      if (next !== item) (copy ??= [...value])[index] = next
    })
    return copy ?? value
  }
  return value
}

/** Every path option in `value` (decoded options of `schema`), resolved from `recipeDir`. */
export const pathOptions = (schema: Schema.Top, value: unknown, recipeDir: string): ReadonlyArray<PathOption> => {
  const found = new Map<string, PathOption>()
  walk(schema.ast, value, [], (kind, written, at, ast) => {
    const check = checkOf(ast)
    found.set(JSON.stringify(at), { at, kind, value: written, absolute: resolveFrom(recipeDir, written), ...(check === undefined ? {} : { check }) })
    return written
  })
  return [...found.values()]
}

/** `value` with every path option replaced by its absolute path. */
export const resolvePathOptions = <A>(schema: Schema.Top, value: A, recipeDir: string): A =>
  walk(schema.ast, value, [], (_kind, written) => resolveFrom(recipeDir, written)) as A
