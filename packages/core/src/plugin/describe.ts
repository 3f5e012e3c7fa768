/**
 * Human-facing descriptions of components — kind, role, options with type,
 * default and doc, input ports and slots — read from the manifest and the
 * options Schema (for `refine-af plugins` and docs).
 *
 * @example
 * ```ts
 * import { componentCatalog, describeComponent, type LoadedPlugin } from "@refine-af/core"
 * declare const plugins: ReadonlyArray<LoadedPlugin>
 * const described = [...componentCatalog(plugins).values()].map(describeComponent)
 * ```
 */
import * as path from "node:path"
import { Result, Schema, SchemaAST } from "effect"
import type { CatalogEntry } from "./catalog.ts"
import { isOptionalSlot, providedKeys, slotService, type Slots } from "./manifest.ts"
import { isCodecNoise, optionsJsonSchema, type JsonSchemaNode } from "./options-json-schema.ts"
import { recipePathKind } from "./path-option.ts"

/** One option of a component. */
export interface OptionDescription {
  readonly name: string
  /** A short type, e.g. `integer`, `array<string>`, `"a" | "b"`. */
  readonly type: string
  readonly required: boolean
  /** The value used when the option is left out, if the Schema supplies one. */
  readonly default?: unknown
  /**
   * Set when the default is a file or folder the plugin ships (a path option whose default is an
   * absolute path, computed where the plugin is installed): its name, shown instead of the path.
   */
  readonly bundledDefault?: string
  readonly description?: string
  /** The keys of a struct-valued option (`sampling.temperature`, …), each described the same way. */
  readonly children?: ReadonlyArray<OptionDescription>
}

const comparesOf = (entry: CatalogEntry) => {
  const compares = entry.component.kind === "stage" ? entry.component.compares : undefined
  if (compares === undefined) return {}
  const prefix = `${entry.plugin.manifest.name}/`
  return { compares: { evaluations: compares.evaluations.map((name) => prefix + name), importer: prefix + compares.importer } }
}

/** Everything a user needs to write a node of this component. */
export interface ComponentDescription {
  readonly id: string
  readonly kind: "stage" | "resource"
  readonly role?: string
  /** A comparison stage's `compares` (full component ids), as `refine-af compare` uses it. */
  readonly compares?: { readonly evaluations: ReadonlyArray<string>; readonly importer: string }
  readonly description: string
  /** The service key a resource provides (several joined with ", "). */
  readonly provides?: string
  /** Every service key a resource provides. */
  readonly providesAll?: ReadonlyArray<string>
  /** Undefined when the options Schema is not a plain struct (then see its JSON Schema). */
  readonly options: ReadonlyArray<OptionDescription> | undefined
  /** Input ports; `list`: the port takes a list of stages. */
  readonly inputs: ReadonlyArray<{ readonly name: string; readonly description: string; readonly optional: boolean; readonly list: boolean }>
  readonly slots: ReadonlyArray<{ readonly name: string; readonly service: string; readonly optional: boolean }>
}

/** Renders a JSON Schema node as a short type. */
export const jsonSchemaTypeName = (node: JsonSchemaNode | undefined): string => {
  if (node === undefined) return "any"
  if (typeof node.$ref === "string") return node.$ref.slice(node.$ref.lastIndexOf("/") + 1)
  if (Array.isArray(node.enum)) return node.enum.map((value: unknown) => JSON.stringify(value)).join(" | ")
  if (node.const !== undefined) return JSON.stringify(node.const)
  const union = node.anyOf ?? node.oneOf
  if (Array.isArray(union)) {
    const parts = union.filter((part: JsonSchemaNode) => !isCodecNoise(part)).map(jsonSchemaTypeName)
    return [...new Set(parts)].join(" | ") || "any"
  }
  if (node.type === "array") return `array<${jsonSchemaTypeName(node.items)}>`
  if (typeof node.type === "string") return node.type
  return "any"
}

/** The struct inside an option's type (itself, or the struct member of an optional union), if any. */
const structOf = (ast: SchemaAST.AST): SchemaAST.Objects | undefined => {
  if (SchemaAST.isObjects(ast)) return ast.indexSignatures.length === 0 && ast.propertySignatures.length > 0 ? ast : undefined
  if (SchemaAST.isUnion(ast)) {
    const structs = ast.types.map(structOf).filter((member) => member !== undefined)
    return structs.length === 1 ? structs[0] : undefined
  }
  return undefined
}

const describeOption = (signature: SchemaAST.PropertySignature): OptionDescription => {
  const single = Schema.make(new SchemaAST.Objects([signature], [])) as Schema.Codec<Record<string, unknown>, unknown>
  const name = String(signature.name)
  const fromNothing = Schema.decodeUnknownResult(single)({})
  // Some Schemas (opaque declarations) have no JSON Schema form; they are then described as `any`.
  const jsonNode = optionsJsonSchema(single)?.schema.properties?.[name] as JsonSchemaNode | undefined
  const description = SchemaAST.resolveDescription(signature.type) ?? jsonNode?.description
  const fallback = Result.isSuccess(fromNothing) ? fromNothing.success[name] : undefined
  const struct = structOf(signature.type)
  const bundled = recipePathKind(signature.type) !== undefined && typeof fallback === "string" && path.isAbsolute(fallback)
  return {
    name,
    type: struct === undefined || !SchemaAST.isObjects(signature.type) ? jsonSchemaTypeName(jsonNode) : "object",
    required: Result.isFailure(fromNothing),
    ...(fallback === undefined ? {} : { default: fallback }),
    ...(bundled ? { bundledDefault: path.basename(fallback) } : {}),
    ...(description === undefined ? {} : { description }),
    ...(struct === undefined ? {} : { children: struct.propertySignatures.map(describeOption) })
  }
}

/** Describes one catalog entry. */
export const describeComponent = (entry: CatalogEntry): ComponentDescription => {
  const { component } = entry
  const ast = component.options.ast
  const options = SchemaAST.isObjects(ast) && ast.indexSignatures.length === 0 ? ast.propertySignatures.map(describeOption) : undefined
  return {
    id: entry.id,
    kind: component.kind,
    ...(component.kind === "stage" ? { role: component.role, ...comparesOf(entry) } : { provides: providedKeys(component).map((key) => key.key).join(", "), providesAll: providedKeys(component).map((key) => key.key) }),
    description: component.description,
    options,
    inputs: Object.entries(component.inputs ?? {}).map(([name, port]) => ({ name, description: port.description, optional: port.optional === true, list: port.list === true })),
    slots: Object.entries((component.uses ?? {}) as Slots).map(([name, slot]) => ({ name, service: slotService(slot).key, optional: isOptionalSlot(slot) }))
  }
}
