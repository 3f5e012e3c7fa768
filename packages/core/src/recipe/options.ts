/**
 * Decodes a node's options with its component's Schema and turns every Schema
 * issue into a recipe problem at the line:column of the offending value.
 */
import { Result, Schema, SchemaIssue } from "effect"
import type { OptionsSchema } from "../plugin/manifest.ts"
import { problemAt, type RecipeProblem } from "./errors.ts"
import type { DocPath, PositionIndex } from "./positions.ts"
import { describeValue } from "./structure.ts"

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/** `sampling.stop[1]` for the path `["sampling", "stop", 1]`. */
export const formatOptionPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((segment, index) => typeof segment === "number" ? `[${segment}]` : `${index === 0 ? "" : "."}${String(segment)}`).join("")

const valueAtPath = (data: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>((value, segment) =>
    typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[segment] : undefined, data)

/** Decodes `options` (as written in the node at `nodePath`); on failure, one problem per Schema issue. */
export const decodeOptions = (
  schema: OptionsSchema<unknown>,
  options: Readonly<Record<string, unknown>>,
  nodePath: DocPath,
  label: string,
  positions: PositionIndex
): { readonly _tag: "Decoded"; readonly value: unknown } | { readonly _tag: "Invalid"; readonly problems: ReadonlyArray<RecipeProblem> } => {
  const result = Schema.decodeUnknownResult(schema)(options, { errors: "all", onExcessProperty: "error" })
  if (Result.isSuccess(result)) return { _tag: "Decoded", value: result.success }
  const problems = formatIssues(result.failure.issue).issues.map((issue): RecipeProblem => {
    const path = issue.path as ReadonlyArray<PropertyKey>
    const name = formatOptionPath(path)
    const docPath = [...nodePath, ...path.map((segment) => typeof segment === "number" ? segment : String(segment))]
    if (issue.message === "Missing key") {
      return problemAt(positions.keyAt(nodePath), `${label}: missing required option "${name}"`, `add \`${name}: <value>\` to it`)
    }
    if (issue.message === "Expected no excess property") {
      return problemAt(positions.keyAt(docPath), `${label}: unknown option "${name}"`, "remove it, or check the component's options with `refine-af plugins`")
    }
    const written = valueAtPath(options, path)
    const got = issue.message.includes(", got ") ? "" : `, got ${describeValue(written)}`
    return problemAt(positions.valueAt(docPath), `${label}: option "${name}": ${issue.message}${got}`)
  })
  return { _tag: "Invalid", problems }
}
