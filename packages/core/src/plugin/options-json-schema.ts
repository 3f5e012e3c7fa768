/**
 * The JSON Schema of a component's options as a recipe author writes them.
 * Built from the Schema's own representation (so checks such as `minimum` and
 * descriptions survive), then stripped of what only JSON transport needs:
 * `null` for optional values and "NaN"/"Infinity" strings for numbers, which
 * the recipe decoder does not accept either.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { optionsJsonSchema } from "@refine-af/core"
 * optionsJsonSchema(Schema.Struct({ temperature: Schema.Number.check(Schema.isGreaterThanOrEqualTo(0)) }))
 * // { schema: { type: "object", properties: { temperature: { type: "number", minimum: 0 } }, ... }, definitions: {} }
 * ```
 */
import { Schema, SchemaRepresentation } from "effect"

/** A JSON Schema node. */
export type JsonSchemaNode = { readonly [key: string]: any }

/** JSON-transport artifacts that say nothing to a recipe author. */
export const isCodecNoise = (node: JsonSchemaNode): boolean =>
  node.type === "null" || (node.type === "string" && Array.isArray(node.enum) && node.enum.includes("NaN"))

const stripNoise = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(stripNoise)
  if (typeof node !== "object" || node === null) return node
  const cleaned: Record<string, unknown> = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, stripNoise(value)]))
  for (const unionKey of ["anyOf", "oneOf"]) {
    const members = cleaned[unionKey]
    if (!Array.isArray(members)) continue
    const kept = members.filter((member) => !isCodecNoise(member as JsonSchemaNode))
    if (kept.length === members.length || kept.length === 0) continue
    delete cleaned[unionKey]
    // One member left: it becomes the node itself, keeping the node's own checks and description.
    if (kept.length === 1) Object.assign(cleaned, { ...(kept[0] as object), ...cleaned })
    else cleaned[unionKey] = kept
  }
  return cleaned
}

/**
 * Closes every nested struct's key set (`additionalProperties: false`), as `validate` does
 * (it decodes with `onExcessProperty: "error"`), so an editor flags `sampling.temprature` too.
 * Records and structs with index signatures keep their own rule; the root is left open
 * because the recipe node adds `_component_`, ports and slots beside the options.
 */
const closeStructs = (node: unknown, isRoot: boolean): unknown => {
  if (Array.isArray(node)) return node.map((item) => closeStructs(item, false))
  if (typeof node !== "object" || node === null) return node
  const closed: Record<string, unknown> = Object.fromEntries(Object.entries(node).map(([key, value]) =>
    [key, key === "properties" && typeof value === "object" && value !== null
      ? Object.fromEntries(Object.entries(value).map(([name, property]) => [name, closeStructs(property, false)]))
      : closeStructs(value, isRoot && (key === "anyOf" || key === "oneOf" || key === "allOf"))]
  ))
  const isStruct = closed["type"] === "object" && typeof closed["properties"] === "object" && closed["patternProperties"] === undefined
  if (!isRoot && isStruct && (closed["additionalProperties"] === undefined || closed["additionalProperties"] === true)) closed["additionalProperties"] = false
  return closed
}

/** The options' JSON Schema and its definitions, or undefined when the Schema has no JSON Schema form. */
export const optionsJsonSchema = (
  schema: Schema.Top
): { readonly schema: JsonSchemaNode; readonly definitions: Readonly<Record<string, JsonSchemaNode>> } | undefined => {
  try {
    const document = SchemaRepresentation.toJsonSchemaDocument(Schema.toRepresentation(schema))
    const definitions = stripNoise(document.definitions) as Record<string, JsonSchemaNode>
    return {
      schema: closeStructs(stripNoise(document.schema), true) as JsonSchemaNode,
      definitions: Object.fromEntries(Object.entries(definitions).map(([name, definition]) => [name, closeStructs(definition, false) as JsonSchemaNode]))
    }
  } catch {
    return undefined
  }
}
