/**
 * Parses recipe YAML into plain data plus the source position of every key and
 * value. Recipes are data: YAML tags, anchors and aliases are refused (no
 * interpolation, no alias bombs, no `!!js/function`), and duplicate keys are
 * errors rather than silently overwritten.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml"
import { problemAt, type RecipeProblem, type SourcePosition } from "./errors.ts"
import { PositionIndex, type DocPath } from "./positions.ts"
import { maxRecipeDepth, nestingFix, unclosedQuoteStart, yamlFix } from "./yaml-fixes.ts"

/** A parsed recipe document: the data, where each part is written, and what is wrong with the YAML itself. */
export interface ParsedYaml {
  readonly value: unknown
  readonly positions: PositionIndex
  /** Broken syntax, duplicate keys, tags, anchors, aliases: when any, the data is not what the user meant. */
  readonly problems: ReadonlyArray<RecipeProblem>
}

/** How many YAML syntax errors are reported one by one before the rest are counted in one problem. */
const shownSyntaxErrors = 3

/** How many aliases are reported one by one before the rest are counted in one problem. */
const aliasesReported = 3

const yamlCoreTagPrefix = "tag:yaml.org,2002:"

/** Where the parsed text sits in what the user wrote (an override's value starts after `key=`). */
export interface ParseOptions {
  /** Added to columns on the first line. */
  readonly columnOffset?: number
}

/** Parses `source` (the text of `file`, a display name used in problems). Never throws. */
export const parseRecipeYaml = (file: string, source: string, options: ParseOptions = {}): ParsedYaml => {
  const lineCounter = new LineCounter()
  const doc = parseDocument(source, { lineCounter, keepSourceTokens: true, uniqueKeys: true, prettyErrors: false })
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset)
    return { file, line, column: line === 1 ? col + (options.columnOffset ?? 0) : col }
  }
  const positions = new PositionIndex({ file, line: 1, column: 1 })
  const problems: Array<RecipeProblem> = []
  // The parser itself ran out of stack: reported below unless the walk finds where nesting gets too deep.
  let parserOverflow: RecipeProblem | undefined
  let syntaxErrors = 0
  let firstHiddenSyntax: SourcePosition | undefined
  for (const error of doc.errors) {
    if (error.code === "MULTIPLE_DOCS") {
      problems.push(problemAt(at(error.pos[0]), "invalid YAML: a recipe is one document, but a `---` line starts another", "remove the `---` line and merge or drop what follows it"))
      continue
    }
    const message = firstLine(error.message)
    if (/Maximum call stack size exceeded/.test(message)) {
      parserOverflow = problemAt(at(error.pos[0]), `invalid YAML: nesting deeper than ${maxRecipeDepth} levels`, nestingFix)
      continue
    }
    const quote = error.code === "MISSING_CHAR" ? /Missing closing (["'])quote/.exec(message)?.[1] : undefined
    const opensAt = quote === undefined ? undefined : unclosedQuoteStart(doc, source, error.pos[0], quote)
    if (opensAt !== undefined) {
      problems.push(problemAt(at(opensAt), `invalid YAML: the ${quote} quote opened here is never closed`, yamlFix(error.code, message)))
      continue
    }
    if (error.code === "DUPLICATE_KEY") {
      problems.push(problemAt(at(error.pos[0]), `invalid YAML: ${message}`, "remove or rename one of the duplicate keys"))
      continue
    }
    // One misplaced line makes the parser report every token after it: the first few say where, the rest are counted.
    syntaxErrors++
    if (syntaxErrors <= shownSyntaxErrors) problems.push(problemAt(at(error.pos[0]), `invalid YAML: ${message}`, yamlFix(error.code, message)))
    else firstHiddenSyntax ??= at(error.pos[0])
  }
  if (firstHiddenSyntax !== undefined) {
    problems.push(problemAt(
      firstHiddenSyntax,
      `${syntaxErrors - shownSyntaxErrors} more YAML syntax errors from here on, most likely caused by the first one`,
      "fix the first error (often the indentation of its line or the line before it), then validate again"
    ))
  }

  const refuseProps = (node: Node): void => {
    const start = node.range?.[0] ?? 0
    if (node.tag !== undefined) {
      const written = node.tag.startsWith(yamlCoreTagPrefix) ? `!!${node.tag.slice(yamlCoreTagPrefix.length)}` : node.tag
      const tagOffset = source.lastIndexOf(written, start)
      problems.push(problemAt(
        at(tagOffset >= 0 ? tagOffset : start),
        `YAML tag "${written}" is not allowed: recipes are plain data`,
        "remove the tag and write the value as a plain string, number, list or mapping"
      ))
    }
    if (node.anchor !== undefined) {
      const anchorOffset = source.lastIndexOf(`&${node.anchor}`, start)
      problems.push(problemAt(
        at(anchorOffset >= 0 ? anchorOffset : start),
        `YAML anchor "&${node.anchor}" is not allowed: recipes are plain data without references`,
        "write the value out in full where it is needed (use CLI overrides for variations)"
      ))
    }
  }

  // An alias bomb has thousands of aliases: name the first few, count the rest.
  let aliasCount = 0
  let firstHiddenAlias: SourcePosition | undefined
  let tooDeepReported = false
  const toData = (node: unknown, path: DocPath): unknown => {
    if (node === null || node === undefined) return null
    if (isAlias(node)) {
      aliasCount += 1
      if (aliasCount > aliasesReported) {
        firstHiddenAlias ??= at(node.range?.[0] ?? 0)
        return null
      }
      problems.push(problemAt(
        at(node.range?.[0] ?? 0),
        `YAML alias "*${node.source}" is not allowed: recipes are plain data without references`,
        "write the value out in full instead of referring to an anchor"
      ))
      return null
    }
    const located = node as Node
    if (path.length > maxRecipeDepth) {
      if (!tooDeepReported) problems.push(problemAt(at(located.range?.[0] ?? 0), `nesting deeper than ${maxRecipeDepth} levels`, nestingFix))
      tooDeepReported = true
      return null
    }
    positions.set(path, { value: at(located.range?.[0] ?? 0) })
    refuseProps(located)
    if (isScalar(node)) return node.value
    if (isSeq(node)) return node.items.map((item, index) => toData(item, [...path, index]))
    if (isMap(node)) {
      const result: Record<string, unknown> = {}
      for (const pair of node.items) {
        if (!isPair(pair)) continue
        const keyNode = pair.key
        if (!isScalar(keyNode) || typeof keyNode.value === "object") {
          const offset = (keyNode as Node | null)?.range?.[0] ?? located.range?.[0] ?? 0
          problems.push(problemAt(at(offset), "mapping keys must be plain names", "write the key as a plain string"))
          continue
        }
        refuseProps(keyNode)
        const key = String(keyNode.value)
        positions.set([...path, key], { key: at(keyNode.range?.[0] ?? 0) })
        // Defining a property named __proto__ on a plain object would change its prototype.
        Object.defineProperty(result, key, {
          value: toData(pair.value, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true
        })
      }
      return result
    }
    return null
  }

  const value = toData(doc.contents, [])
  if (parserOverflow !== undefined && !tooDeepReported) problems.push(parserOverflow)
  if (firstHiddenAlias !== undefined) {
    problems.push(problemAt(firstHiddenAlias, `${aliasCount - aliasesReported} more YAML aliases are not allowed either`, "recipes are plain data: remove every anchor and alias"))
  }
  return { value, positions, problems }
}

const firstLine = (message: string): string => message.split("\n")[0] ?? message
