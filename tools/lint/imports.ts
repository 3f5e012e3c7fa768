/**
 * Extracts the module specifiers a TypeScript file imports, with the kind of
 * each: a value import (runs at load time), a type-only one (erased at run
 * time, still a dependency between modules) or a dynamic one (`import()` /
 * `require` inside code: runs later, so it can break a load-order cycle).
 */
import ts from "typescript"

/** How a module is imported. */
export type ImportKind = "value" | "type" | "dynamic"

export interface ImportRef {
  readonly specifier: string
  readonly kind: ImportKind
  /** 1-based line of the import, for messages. */
  readonly line: number
}

export const importsOf = (fileName: string, text: string): ImportRef[] => {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const refs: ImportRef[] = []
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause
      const typeOnly = clause !== undefined && (clause.isTypeOnly || allNamedTypeOnly(clause))
      refs.push({ specifier: node.moduleSpecifier.text, kind: typeOnly ? "type" : "value", line: lineOf(node) })
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      refs.push({ specifier: node.moduleSpecifier.text, kind: node.isTypeOnly ? "type" : "value", line: lineOf(node) })
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require")) &&
      node.arguments.length === 1 &&
      ts.isStringLiteralLike(node.arguments[0]!)
    ) {
      // Dynamic imports run later, so they cannot create an import-time cycle; still subject to boundaries.
      refs.push({ specifier: (node.arguments[0] as ts.StringLiteralLike).text, kind: "dynamic", line: lineOf(node) })
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      refs.push({ specifier: node.argument.literal.text, kind: "type", line: lineOf(node) })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return refs
}

const allNamedTypeOnly = (clause: ts.ImportClause): boolean =>
  clause.name === undefined &&
  clause.namedBindings !== undefined &&
  ts.isNamedImports(clause.namedBindings) &&
  clause.namedBindings.elements.length > 0 &&
  clause.namedBindings.elements.every((element) => element.isTypeOnly)
