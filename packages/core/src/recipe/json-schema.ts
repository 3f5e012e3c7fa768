/**
 * A JSON Schema (draft 2020-12) for recipes using the given plugins, built
 * from every component's options Schema, so editors running
 * yaml-language-server autocomplete and check recipes as they are typed:
 *
 * ```yaml
 * # yaml-language-server: $schema=./recipe.schema.json
 * ```
 *
 * The editor's check is a first pass; `refine-af validate` stays the authority
 * (Schema checks such as refinements can be stricter than JSON Schema).
 *
 * @example
 * ```ts
 * import { recipeJsonSchema, type LoadedPlugin } from "@refine-af/core"
 * declare const plugins: ReadonlyArray<LoadedPlugin>
 * const schemaText = JSON.stringify(recipeJsonSchema(plugins), null, 2)
 * ```
 */
import { isOptionalSlot, providedKeys, slotService, type Slots } from "../plugin/manifest.ts"
import { optionsJsonSchema } from "../plugin/options-json-schema.ts"
import { componentCatalog, inputPorts, optionKeys, resourceSlots, type CatalogEntry } from "../plugin/catalog.ts"
import type { LoadedPlugin } from "./resolved.ts"

/** A JSON Schema object. */
export type JsonSchemaObject = { readonly [key: string]: unknown }

const defsPrefix = "#/$defs/"

/** Points the options' own `$ref`s at their renamed definitions. */
const renameRefs = (value: unknown, rename: (name: string) => string): unknown => {
  if (Array.isArray(value)) return value.map((item) => renameRefs(item, rename))
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([key, nested]) =>
    key === "$ref" && typeof nested === "string" && nested.startsWith(defsPrefix)
      ? [key, defsPrefix + rename(nested.slice(defsPrefix.length))]
      : [key, renameRefs(nested, rename)]
  ))
}

/** `$defs` keys must not contain "/" (it separates JSON Pointer segments). */
const definitionName = (id: string): string => `component.${id.replace("/", ".")}`

/** The options' JSON Schema; an options Schema that cannot be converted accepts anything (validate still checks it). */
const safeJsonSchema = (entry: CatalogEntry): { readonly schema: object; readonly definitions: Readonly<Record<string, unknown>> } =>
  optionsJsonSchema(entry.component.options) ??
    { schema: { description: `options of ${entry.id} (no JSON Schema form; run refine-af validate)` }, definitions: {} }

/** The schema of one node of a component, plus the definitions its options refer to. */
const nodeSchema = (entry: CatalogEntry): { readonly node: JsonSchemaObject; readonly defs: Record<string, unknown> } => {
  const prefix = `${definitionName(entry.id)}.`
  const document = safeJsonSchema(entry)
  const options = renameRefs(document.schema, (name) => prefix + name) as Record<string, unknown>
  const defs = Object.fromEntries(Object.entries(document.definitions).map(([name, def]) => [prefix + name, renameRefs(def, (n) => prefix + n)]))
  const component = entry.component
  const connections: Record<string, unknown> = {}
  const required: Array<string> = ["_component_"]
  for (const port of inputPorts(component)) {
    const spec = component.inputs![port]!
    connections[port] = spec.list === true
      ? {
        anyOf: [{ type: "array", items: { type: "string" }, minItems: 1, uniqueItems: true }, { type: "string" }],
        description: `List input port: names of upstream stages, in order. ${spec.description}`
      }
      : { type: "string", description: `Input port: name of the upstream stage. ${spec.description}` }
    if (spec.optional !== true) required.push(port)
  }
  for (const slot of resourceSlots(component)) {
    const spec = (component.uses as Slots)[slot]!
    connections[slot] = { type: "string", description: `Resource slot${isOptionalSlot(spec) ? " (optional)" : ""}: name of a resource providing ${slotService(spec).key}.` }
    if (!isOptionalSlot(spec)) required.push(slot)
  }
  const provides = component.kind === "resource" ? ` Provides ${providedKeys(component).map((key) => key.key).join(", ")}.` : ""
  const header = { _component_: { const: entry.id, description: `${component.description}${provides}` } }
  // A plain struct (known keys, no index signature) lets the node schema close its key set; an empty
  // struct compiles to "anything but null", so the AST decides, not the JSON output.
  const keys = optionKeys(component.options)
  const isPlainObject = keys !== undefined && (keys.length === 0 || (options.type === "object" && options.patternProperties === undefined))
  const node: JsonSchemaObject = isPlainObject
    ? {
      type: "object",
      description: component.description,
      properties: { ...header, ...connections, ...(keys!.length === 0 ? {} : options.properties as object) },
      required: [...required, ...((options.required as Array<string> | undefined) ?? [])],
      additionalProperties: false
    }
    : { type: "object", description: component.description, properties: { ...header, ...connections }, required, allOf: [options] }
  return { node, defs }
}

/** `_component_` must be one of `ids`; each id then selects its node schema. */
const sectionSchema = (ids: ReadonlyArray<string>, kind: string): JsonSchemaObject => ({
  type: "object",
  description: `A ${kind}: _component_ picks the implementation; the other keys are its options, input ports and slots.`,
  required: ["_component_"],
  properties: { _component_: { enum: ids } },
  allOf: ids.map((id) => ({
    if: { properties: { _component_: { const: id } }, required: ["_component_"] },
    then: { $ref: defsPrefix + definitionName(id) }
  }))
})

/** The JSON Schema of a recipe that lists `plugins`. */
export const recipeJsonSchema = (plugins: ReadonlyArray<LoadedPlugin>): JsonSchemaObject => {
  const defs: Record<string, unknown> = {}
  const stageIds: Array<string> = []
  const resourceIds: Array<string> = []
  for (const entry of componentCatalog(plugins).values()) {
    const { node, defs: optionDefs } = nodeSchema(entry)
    defs[definitionName(entry.id)] = node
    Object.assign(defs, optionDefs)
    ;(entry.component.kind === "stage" ? stageIds : resourceIds).push(entry.id)
  }
  defs.stage = sectionSchema(stageIds, "stage")
  defs.resource = sectionSchema(resourceIds, "resource")
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "refine-af recipe",
    description: `Recipe for plugins: ${plugins.map((plugin) => `${plugin.packageName}@${plugin.packageVersion}`).join(", ")}`,
    type: "object",
    additionalProperties: false,
    required: ["plugins", "stages"],
    properties: {
      name: { type: "string", description: "Name of the run." },
      description: { type: "string", description: "What the recipe does." },
      seed: { type: "integer", minimum: 0, description: "Root seed; every stage derives its own from it." },
      plugins: { type: "array", items: { type: "string" }, description: "npm packages (or ./ ../ / paths) providing the components." },
      resources: { type: "object", additionalProperties: { $ref: `${defsPrefix}resource` }, description: "Shared services (models, scorers, backends) by name." },
      stages: { type: "object", minProperties: 1, additionalProperties: { $ref: `${defsPrefix}stage` }, description: "The run DAG: stages by name." }
    },
    $defs: defs
  }
}
