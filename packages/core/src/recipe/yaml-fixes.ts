/**
 * What to do about each YAML syntax error: the `yaml` library names the problem, these name
 * the fix. Also finds where an unclosed quote opens (the library reports the end of file).
 */
import { isScalar, visit, type Document } from "yaml"

/** Deepest nesting a recipe may have; real recipes need fewer than ten levels. */
export const maxRecipeDepth = 64

const fixes: Record<string, string> = {
  BAD_INDENT: "indent with spaces so each nested key sits deeper than its parent, siblings line up, and every `[`/`{` is closed",
  TAB_AS_INDENT: "indent with spaces, not tabs",
  BLOCK_AS_IMPLICIT_KEY: "quote a value that contains `: ` (e.g. `key: \"a: b\"`), or put a nested mapping on its own indented lines",
  MULTILINE_IMPLICIT_KEY: "write each `key: value` on one line: quote text that spans lines, or use a `|` block",
  BAD_DQ_ESCAPE: "in double quotes write a backslash as `\\\\`, or use single quotes, which take backslashes literally",
  BAD_SCALAR_START: "quote the value: plain YAML values cannot start with `@`, `` ` ``, `%` or other reserved characters",
  UNEXPECTED_TOKEN: "remove the stray character, or quote the value that contains it",
  KEY_OVER_1024_CHARS: "keep keys short (under 1024 characters) and put long text in a value",
  BLOCK_IN_FLOW: "inside `[...]` or `{...}` write everything inline: move block content out or convert it to flow syntax",
  BAD_DIRECTIVE: "remove the `%` directive line: recipes need none",
  BAD_PROP_ORDER: "remove the YAML tag or anchor: recipes are plain data",
  MULTIPLE_ANCHORS: "remove the anchors: recipes are plain data",
  MULTIPLE_TAGS: "remove the tags: recipes are plain data",
  ALIAS_PROPS: "remove the alias and write the value out in full",
  BAD_ALIAS: "remove the alias and write the value out in full",
  NON_STRING_KEY: "write the key as a plain name",
  TAG_RESOLVE_FAILED: "remove the tag and write a plain value",
  BAD_COLLECTION_TYPE: "remove the tag and write a plain list or mapping",
  RESOURCE_EXHAUSTION: "remove anchors and aliases: recipes are plain data",
  IMPOSSIBLE: "check the YAML around this position (quotes, brackets, indentation)"
}

/** The concrete fix for a YAML error (by the library's error code and message). */
export const yamlFix = (code: string, message: string): string => {
  if (/Maximum call stack size exceeded/.test(message)) return nestingFix
  if (code === "MISSING_CHAR") {
    const quote = /Missing closing (["'])quote/.exec(message)?.[1]
    if (quote !== undefined) return `close the quote: add the matching ${quote} at the end of the value that opens here`
    if (/flow/i.test(message) || /[\]}]/.test(message)) return "close the bracket (`]` or `}`) and separate items with commas"
    return "add the missing character the message names"
  }
  return fixes[code] ?? "check the YAML around this position (quotes, brackets, indentation)"
}

/** The fix for a recipe nested deeper than `maxRecipeDepth`. */
export const nestingFix = `flatten it: recipes nest at most ${maxRecipeDepth} levels (real recipes need fewer than ten)`

/** Offset of the opening quote of the unterminated quoted value that a "Missing closing quote" error at `errorOffset` belongs to. */
export const unclosedQuoteStart = (doc: Document, source: string, errorOffset: number, quote: string): number | undefined => {
  let found: number | undefined
  visit(doc, {
    Scalar(_key, node) {
      if (!isScalar(node) || node.range === undefined || node.range === null) return
      const [start, end] = node.range
      const type = quote === "\"" ? "QUOTE_DOUBLE" : "QUOTE_SINGLE"
      if (node.type !== type || source[start] !== quote) return
      const text = source.slice(start, end).trimEnd()
      const closed = text.length >= 2 && text.endsWith(quote) && (quote === "'" || !text.endsWith(`\\${quote}`) || text.endsWith(`\\\\${quote}`))
      if (!closed && end >= errorOffset - 1 && (found === undefined || start > found)) found = start
    }
  })
  return found
}
