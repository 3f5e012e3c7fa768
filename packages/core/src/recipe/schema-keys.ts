/**
 * The option keys a component's Schema accepts at a nested path
 * (`["filters"]` → `["rougeThreshold", "minWords", ...]`), read from its JSON
 * Schema. Overrides use it to suggest a fix for a typo in a key the recipe
 * does not write yet, before the decoder runs.
 */
import type { OptionsSchema } from "../plugin/manifest.ts"
import { optionsJsonSchema, type JsonSchemaNode } from "../plugin/options-json-schema.ts"

const resolveRef = (node: JsonSchemaNode, definitions: Readonly<Record<string, JsonSchemaNode>>): JsonSchemaNode => {
  const ref = node["$ref"]
  if (typeof ref !== "string") return node
  const target = definitions[ref.slice(ref.lastIndexOf("/") + 1)]
  return target === undefined ? node : target
}

/** The object member of a node (itself, or the single object member of a union), if any. */
const objectNode = (node: JsonSchemaNode, definitions: Readonly<Record<string, JsonSchemaNode>>): JsonSchemaNode | undefined => {
  const resolved = resolveRef(node, definitions)
  if (typeof resolved.properties === "object" && resolved.properties !== null) return resolved
  const members = resolved.anyOf ?? resolved.oneOf
  if (!Array.isArray(members)) return undefined
  const objects = members.map((member: JsonSchemaNode) => objectNode(member, definitions)).filter((member) => member !== undefined)
  return objects.length === 1 ? objects[0] : undefined
}

/**
 * The keys accepted at `path` inside the options, or undefined when the Schema
 * cannot tell (no JSON Schema form, a record, a union of objects): then only
 * decoding decides.
 */
export const optionKeysAt = (schema: OptionsSchema<unknown>, path: ReadonlyArray<string>): ReadonlyArray<string> | undefined => {
  const document = optionsJsonSchema(schema)
  if (document === undefined) return undefined
  let node: JsonSchemaNode | undefined = objectNode(document.schema, document.definitions)
  for (const segment of path) {
    const child: JsonSchemaNode | undefined = node?.properties?.[segment]
    node = child === undefined ? undefined : objectNode(child, document.definitions)
    if (node === undefined) return undefined
  }
  if (node === undefined) return undefined
  // An object that also takes extra keys (`additionalProperties` a schema) cannot rule a key out.
  if (typeof node.additionalProperties === "object" || node.patternProperties !== undefined) return undefined
  return Object.keys(node.properties)
}
