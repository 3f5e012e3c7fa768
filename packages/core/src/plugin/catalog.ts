/**
 * Every component of the loaded plugins by its recipe id (`<plugin>/<component>`),
 * and the keys a recipe node of each component may hold.
 *
 * @example
 * ```ts
 * import { componentCatalog, type LoadedPlugin } from "@refine-af/core"
 * declare const plugins: ReadonlyArray<LoadedPlugin>
 * const ids = [...componentCatalog(plugins).keys()] // ["demo/lines", "demo/uppercase", ...]
 * ```
 */
import { SchemaAST } from "effect"
import type { LoadedPlugin } from "../recipe/resolved.ts"
import type { Component, OptionsSchema } from "./manifest.ts"

/** One component, where it comes from, and its recipe id. */
export interface CatalogEntry {
  readonly id: string
  readonly plugin: LoadedPlugin
  readonly component: Component
}

/** The components of `plugins` by id, in plugin then component order. */
export const componentCatalog = (plugins: ReadonlyArray<LoadedPlugin>): ReadonlyMap<string, CatalogEntry> => {
  const catalog = new Map<string, CatalogEntry>()
  for (const plugin of plugins) {
    for (const [name, component] of Object.entries(plugin.manifest.components)) {
      const id = `${plugin.manifest.name}/${name}`
      catalog.set(id, { id, plugin, component })
    }
  }
  return catalog
}

/**
 * The option names an options Schema accepts as written (its encoded side),
 * or undefined when the schema is not a plain struct (then only decoding can
 * tell which keys are unknown).
 */
export const optionKeys = (schema: OptionsSchema<unknown>): ReadonlyArray<string> | undefined => {
  const encoded = SchemaAST.toEncoded(schema.ast)
  if (!SchemaAST.isObjects(encoded) || encoded.indexSignatures.length > 0) return undefined
  return encoded.propertySignatures.map((signature) => String(signature.name))
}

/** Input port names of a component (a resource's name the stages it is built from). */
export const inputPorts = (component: Component): ReadonlyArray<string> => Object.keys(component.inputs ?? {})

/** Resource slot names of a component. */
export const resourceSlots = (component: Component): ReadonlyArray<string> => Object.keys(component.uses ?? {})

/** Every key a recipe node of this component may hold. */
export const nodeKeys = (component: Component): ReadonlyArray<string> => [
  "_component_",
  ...inputPorts(component),
  ...resourceSlots(component),
  ...(optionKeys(component.options) ?? [])
]

/** A comparison stage of a loaded plugin, with the full ids of what it compares and of its importer. */
export interface ComparisonComponent {
  /** `<plugin>/<component>` of the comparison stage. */
  readonly id: string
  readonly plugin: LoadedPlugin
  /** Full ids of the evaluation components it compares. */
  readonly evaluations: ReadonlyArray<string>
  /** Full id of the stage importing a finished evaluation folder (option `stageDir`). */
  readonly importer: string
}

/**
 * The comparison stages (components declaring `compares`) of the loaded plugins:
 * how `refine-af compare` finds what to run without naming a plugin's component.
 *
 * @example
 * ```ts
 * import { comparisonComponents, type LoadedPlugin } from "@refine-af/core"
 * declare const plugins: ReadonlyArray<LoadedPlugin>
 * const comparing = comparisonComponents(plugins).filter((c) => c.evaluations.includes("superni/evaluate"))
 * ```
 */
export const comparisonComponents = (plugins: ReadonlyArray<LoadedPlugin>): ReadonlyArray<ComparisonComponent> =>
  [...componentCatalog(plugins).values()].flatMap(({ id, plugin, component }) => {
    if (component.kind !== "stage" || component.compares === undefined) return []
    const prefix = `${plugin.manifest.name}/`
    return [{ id, plugin, evaluations: component.compares.evaluations.map((name) => prefix + name), importer: prefix + component.compares.importer }]
  })
