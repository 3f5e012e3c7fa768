/**
 * Typed input ports at validate time: a port's record Schema against the
 * producing stage's declared `output` Schema. Both must be structs to compare;
 * otherwise the check is left to run time. A field the port requires must be
 * declared by the producer, with the same kind of type (string, number, ...).
 */
import { SchemaAST } from "effect"
import type { Schema } from "effect"
import { problemAt, type RecipeProblem } from "./errors.ts"
import type { DocPath, PositionIndex } from "./positions.ts"

const fieldsOf = (schema: Schema.Top): Map<string, SchemaAST.PropertySignature> | undefined => {
  const ast = schema.ast
  if (!SchemaAST.isObjects(ast)) return undefined
  return new Map(ast.propertySignatures.map((signature) => [String(signature.name), signature]))
}

const isOptional = (signature: SchemaAST.PropertySignature): boolean =>
  signature.type.context?.isOptional === true ||
  (SchemaAST.isUnion(signature.type) && signature.type.types.some((member) => member._tag === "Undefined"))

/** The type's kind, ignoring optionality: "String", "Number", "Arrays", a union of kinds... */
const kindOf = (ast: SchemaAST.AST): string => {
  if (SchemaAST.isUnion(ast)) return [...new Set(ast.types.filter((member) => member._tag !== "Undefined").map(kindOf))].sort().join(" | ")
  if (ast._tag === "Literal") return typeof (ast as unknown as { literal: unknown }).literal === "string" ? "String" : "Number"
  return ast._tag
}

const shown = (kind: string) => kind.replace(/\bString\b/g, "string").replace(/\bNumber\b/g, "number").replace(/\bBoolean\b/g, "boolean").replace(/\bArrays\b/g, "array").replace(/\bObjects\b/g, "object")

/** Problems of one connection from a producer (with a declared output) to a typed port. */
export const portTypeProblems = (
  expected: Schema.Top,
  produced: Schema.Top,
  where: { readonly label: string; readonly port: string; readonly producer: string; readonly path: DocPath; readonly positions: PositionIndex }
): Array<RecipeProblem> => {
  const want = fieldsOf(expected)
  const have = fieldsOf(produced)
  if (want === undefined || have === undefined) return []
  const at = where.positions.valueAt(where.path)
  const problems: Array<RecipeProblem> = []
  for (const [name, signature] of want) {
    const given = have.get(name)
    if (given === undefined) {
      if (!isOptional(signature)) {
        problems.push(problemAt(at, `${where.label}: input port "${where.port}" needs records with field "${name}" (${shown(kindOf(signature.type))}), but stage "${where.producer}" does not write it`, `connect a stage whose records have "${name}", or add a stage that adds it`))
      }
      continue
    }
    const wantKind = kindOf(signature.type)
    const haveKind = kindOf(given.type)
    if (wantKind !== "Unknown" && haveKind !== "Unknown" && wantKind !== haveKind) {
      problems.push(problemAt(at, `${where.label}: input port "${where.port}" needs field "${name}" as ${shown(wantKind)}, but stage "${where.producer}" writes it as ${shown(haveKind)}`, "connect a stage whose records match, or convert the field in a stage between them"))
    }
  }
  return problems
}
