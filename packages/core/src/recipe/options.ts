/**
 * Decodes a node's options with its component's Schema and turns every Schema
 * issue into a recipe problem at the line:column of the offending value.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { jsonSchemaTypeName } from "../plugin/describe.ts"
import type { OptionsSchema } from "../plugin/manifest.ts"
import { optionsJsonSchema } from "../plugin/options-json-schema.ts"
import { problemAt, type RecipeProblem } from "./errors.ts"
import type { DocPath, PositionIndex } from "./positions.ts"
import { optionKeysAt } from "./schema-keys.ts"
import { describeValue } from "./structure.ts"
import { didYouMeanSuffix } from "./suggest.ts"

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/** `sampling.stop[1]` for the path `["sampling", "stop", 1]`. */
export const formatOptionPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((segment, index) => typeof segment === "number" ? `[${segment}]` : `${index === 0 ? "" : "."}${String(segment)}`).join("")

const valueAtPath = (data: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>((value, segment) =>
    typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[segment] : undefined, data)

/** Effect wraps a defect thrown inside a Schema in its own Error; the user needs the innermost message. */
const rootMessage = (defect: unknown): string => {
  const cause = (defect as { cause?: { reasons?: ReadonlyArray<{ defect?: unknown }> } } | undefined)?.cause
  const inner = cause instanceof Error ? cause : cause?.reasons?.find((reason) => reason.defect !== undefined)?.defect
  if (inner !== undefined) return rootMessage(inner)
  return (defect instanceof Error ? defect.message : String(defect)).split("\n")[0]!
}

/** The short type of a top-level option, for "add `name: <type>`" fixes (`value` when unknown). */
const optionType = (schema: OptionsSchema<unknown>, name: string): string => {
  const type = jsonSchemaTypeName(optionsJsonSchema(schema)?.schema.properties?.[name])
  return type === "any" ? "value" : type
}

/** A concrete fix for a value of the wrong type or out of range, from the Schema's expectation. */
const valueFix = (message: string, written: unknown): string => {
  const expected = /^Expected (.+?)(, got .*)?$/.exec(message)?.[1]
  const numeric = typeof written === "string" && written.trim() !== "" && Number.isFinite(Number(written))
  if (expected !== undefined && /^(number|a finite number|an integer|.*int)/i.test(expected) && numeric) {
    return `remove the quotes: write ${written.trim()}, not "${written}"`
  }
  if (expected === "string" && (typeof written === "number" || typeof written === "boolean")) {
    return `quote it: "${String(written)}"`
  }
  if (expected === "boolean" && typeof written === "string" && /^(yes|no|on|off|y|n)$/i.test(written)) {
    return "write true or false (YAML 1.2 reads yes/no/on/off as text)"
  }
  if (expected !== undefined) {
    const what = expected.startsWith("\"") ? `one of ${expected}` : /^(number|string|boolean|integer|array|object)$/.test(expected) ? `a${expected === "integer" || expected === "array" || expected === "object" ? "n" : ""} ${expected}` : expected
    return `write ${what} here (\`refine-af plugins\` shows each option's type and default)`
  }
  return `change the value: ${message} (\`refine-af plugins\` shows each option's type and default)`
}

/** Decodes `options` (as written in the node at `nodePath`); on failure, one problem per Schema issue. */
export const decodeOptions = (
  schema: OptionsSchema<unknown>,
  options: Readonly<Record<string, unknown>>,
  nodePath: DocPath,
  label: string,
  positions: PositionIndex
): { readonly _tag: "Decoded"; readonly value: unknown } | { readonly _tag: "Invalid"; readonly problems: ReadonlyArray<RecipeProblem> } => {
  let result: Result.Result<unknown, Schema.SchemaError>
  try {
    result = Schema.decodeUnknownResult(schema)(options, { errors: "all", onExcessProperty: "error" })
  } catch (defect) {
    // A plugin's Schema that throws is a plugin bug; report it like any other problem instead of crashing.
    const reason = rootMessage(defect)
    return { _tag: "Invalid", problems: [problemAt(positions.keyAt(nodePath), `${label}: its options Schema threw while decoding: ${reason}`, "report this to the plugin's authors")] }
  }
  if (Result.isSuccess(result)) return { _tag: "Decoded", value: result.success }
  const problems = formatIssues(result.failure.issue).issues.map((issue): RecipeProblem => {
    const path = issue.path as ReadonlyArray<PropertyKey>
    const name = formatOptionPath(path)
    const docPath = [...nodePath, ...path.map((segment) => typeof segment === "number" ? segment : String(segment))]
    if (issue.message === "Missing key") {
      const type = path.length === 1 ? optionType(schema, name) : "value"
      return problemAt(positions.keyAt(nodePath), `${label}: missing required option "${name}"`, `add \`${name}: <${type}>\` to it`)
    }
    if (issue.message === "Expected no excess property") {
      const parent = path.slice(0, -1)
      const known = parent.every((segment) => typeof segment === "string") ? optionKeysAt(schema, parent as ReadonlyArray<string>) : undefined
      const suggestion = known === undefined ? "" : didYouMeanSuffix(String(path.at(-1)), known)
      return problemAt(positions.keyAt(docPath), `${label}: unknown option "${name}"${suggestion}`, "remove it, or check the component's options with `refine-af plugins`")
    }
    if (path.length === 0) {
      // A check across several options (e.g. "path or builtin, not both"): its message is the problem and the fix.
      return problemAt(positions.keyAt(nodePath), `${label}: ${issue.message}`, "change the options as the message says (`refine-af plugins` lists them)")
    }
    const written = valueAtPath(options, path)
    if (typeof written === "object" && written !== null && !Array.isArray(written) && !issue.message.startsWith("Expected ")) {
      // A check across the keys of a nested mapping (filters.minWords vs filters.maxWords): its message says it all.
      return problemAt(positions.valueAt(docPath), `${label}: option "${name}": ${issue.message}`, "change the options as the message says (`refine-af plugins` lists them)")
    }
    const got = issue.message.includes(", got ") ? "" : `, got ${describeValue(written)}`
    return problemAt(positions.valueAt(docPath), `${label}: option "${name}": ${issue.message}${got}`, valueFix(issue.message, written))
  })
  return { _tag: "Invalid", problems }
}
