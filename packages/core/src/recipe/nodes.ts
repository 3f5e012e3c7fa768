/**
 * Validates each stage and resource node against its component: the
 * `_component_` id, input ports (stage names), resource slots (resource names
 * providing the right service) and options (the component's Schema).
 */
import type { JsonRecord } from "../stage/context.ts"
import { inputPorts, optionKeys, resourceSlots, type CatalogEntry } from "../plugin/catalog.ts"
import { isOptionalSlot, providedKeys, providesService, slotService, type ResourceComponent, type Slots } from "../plugin/manifest.ts"
import { problemAt, type RecipeProblem } from "./errors.ts"
import { decodeOptions } from "./options.ts"
import { pathProblems } from "./path-checks.ts"
import type { DocPath, PositionIndex } from "./positions.ts"
import type { LoadedPlugin } from "./resolved.ts"
import { describeValue, type RawNode } from "./structure.ts"
import { didYouMean, didYouMeanSuffix } from "./suggest.ts"

/** A node whose component, connections and options all check out. */
export interface CheckedNode {
  readonly raw: RawNode
  readonly entry: CatalogEntry
  readonly options: unknown
  readonly rawOptions: JsonRecord
  readonly inputs: Readonly<Record<string, string>>
  /** List port → stage names, in the recipe's order. */
  readonly inputLists: Readonly<Record<string, ReadonlyArray<string>>>
  readonly uses: Readonly<Record<string, string>>
}

/** What node checks need to know about the whole recipe. */
export interface NodeCheckScope {
  readonly catalog: ReadonlyMap<string, CatalogEntry>
  readonly plugins: ReadonlyArray<LoadedPlugin>
  readonly positions: PositionIndex
  readonly stageNames: ReadonlyArray<string>
  /** Each resource's component, when it resolved. */
  readonly resourceComponents: ReadonlyMap<string, CatalogEntry | undefined>
  /** The recipe file as shown to the user, for commands suggested in fixes. */
  readonly recipeFile: string
  /** Folder relative path options resolve from (`RecipePath`); their existence is checked. */
  readonly recipeDir?: string
  /** True when a listed plugin failed to load: components of unknown plugins are then not reported again. */
  readonly pluginsIncomplete: boolean
}

const nodeLabel = (node: RawNode): string => `${node.section === "stages" ? "stage" : "resource"} "${node.name}"`

const nodePath = (node: RawNode): DocPath => [node.section, node.name]

/** Finds the node's component in the catalog, or says why not. */
export const resolveComponent = (
  node: RawNode,
  scope: Pick<NodeCheckScope, "catalog" | "plugins" | "positions" | "pluginsIncomplete" | "recipeFile">
): { readonly entry?: CatalogEntry; readonly problems: ReadonlyArray<RecipeProblem> } => {
  const id = node.data._component_
  const path = [...nodePath(node), "_component_"]
  if (id === undefined) {
    return {
      problems: [problemAt(scope.positions.keyAt(nodePath(node)), `${nodeLabel(node)} has no _component_`, "add `_component_: <plugin>/<component>` (see `refine-af plugins`)")]
    }
  }
  if (typeof id !== "string") {
    return { problems: [problemAt(scope.positions.valueAt(path), `_component_ must be a "<plugin>/<component>" string, got ${describeValue(id)}`, "write e.g. `_component_: demo/lines` (`refine-af plugins --recipe <recipe>` lists components)")] }
  }
  const entry = scope.catalog.get(id)
  if (entry === undefined) {
    const pluginName = id.includes("/") ? id.slice(0, id.indexOf("/")) : id
    const loaded = scope.plugins.map((plugin) => plugin.manifest.name)
    if (scope.pluginsIncomplete && !loaded.includes(pluginName)) return { problems: [] }
    const suggestion = didYouMean(id, scope.catalog.keys())
    const fix = suggestion !== undefined || loaded.includes(pluginName)
      ? `run \`refine-af plugins --recipe ${scope.recipeFile}\` to list the available components`
      : `no listed plugin is named "${pluginName}" (loaded: ${loaded.join(", ") || "none"}); add its package under plugins:`
    return {
      problems: [problemAt(scope.positions.valueAt(path), `unknown component "${id}"${suggestion === undefined ? "" : `; did you mean "${suggestion}"?`}`, fix)]
    }
  }
  const expected = node.section === "stages" ? "stage" : "resource"
  if (entry.component.kind !== expected) {
    return {
      problems: [problemAt(
        scope.positions.valueAt(path),
        `"${id}" is a ${entry.component.kind} component but ${nodeLabel(node)} is under ${node.section}:`,
        `move it under ${entry.component.kind === "stage" ? "stages" : "resources"}:`
      )]
    }
  }
  return { entry, problems: [] }
}

/** Checks one node whose component resolved; returns the checked node or its problems. */
export const checkNode = (
  node: RawNode,
  entry: CatalogEntry,
  scope: NodeCheckScope
): { readonly checked?: CheckedNode; readonly problems: ReadonlyArray<RecipeProblem> } => {
  const { positions } = scope
  const label = `${nodeLabel(node)} (${entry.id})`
  const problems: Array<RecipeProblem> = []
  const ports = inputPorts(entry.component)
  const slots = resourceSlots(entry.component)
  const knownOptions = optionKeys(entry.component.options)
  const inputs: Record<string, string> = {}
  const inputLists: Record<string, ReadonlyArray<string>> = {}
  const uses: Record<string, string> = {}
  const options: Record<string, unknown> = {}

  for (const [key, value] of Object.entries(node.data)) {
    const path = [...nodePath(node), key]
    if (key === "_component_") continue
    if (ports.includes(key) && entry.component.inputs![key]!.list === true) {
      const result = checkListPort(key, value, path, label, scope)
      problems.push(...result.problems)
      if (result.stages !== undefined) inputLists[key] = result.stages
    } else if (ports.includes(key)) {
      if (typeof value !== "string") problems.push(problemAt(positions.valueAt(path), `${label}: input port "${key}" takes a stage name, got ${describeValue(value)}`, `write the name of the stage whose records it reads, e.g. \`${key}: <stage name>\``))
      else if (!scope.stageNames.includes(value)) {
        problems.push(problemAt(positions.valueAt(path), `${label}: input port "${key}" names stage "${value}", which does not exist${didYouMeanSuffix(value, scope.stageNames)}`, `stages are: ${scope.stageNames.join(", ")}`))
      } else inputs[key] = value
    } else if (slots.includes(key)) {
      const wanted = slotService((entry.component.uses as Slots)[key]!)
      const provider = typeof value === "string" ? scope.resourceComponents.get(value) : undefined
      if (typeof value !== "string") problems.push(problemAt(positions.valueAt(path), `${label}: slot "${key}" takes a resource name, got ${describeValue(value)}`, `write the name of a resource from \`resources:\`, e.g. \`${key}: <resource name>\``))
      else if (!scope.resourceComponents.has(value)) {
        const names = [...scope.resourceComponents.keys()]
        problems.push(problemAt(positions.valueAt(path), `${label}: slot "${key}" names resource "${value}", which does not exist${didYouMeanSuffix(value, names)}`, names.length === 0 ? "add it under resources:" : `resources are: ${names.join(", ")}`))
      } else if (provider !== undefined && !providesService(provider.component as ResourceComponent, wanted)) {
        const provided = providedKeys(provider.component as ResourceComponent).map((k) => k.key).join(" and ")
        problems.push(problemAt(positions.valueAt(path), `${label}: slot "${key}" needs a ${wanted.key} but resource "${value}" (${provider.id}) provides ${provided}`, "name a resource that provides the right service"))
      } else uses[key] = value
    } else if (knownOptions !== undefined && !knownOptions.includes(key)) {
      const candidates = [...ports, ...slots, ...knownOptions]
      problems.push(problemAt(positions.keyAt(path), `${label}: unknown key "${key}"${didYouMeanSuffix(key, candidates)}`, `it takes ${describeKeys(ports, slots, knownOptions)}`))
    } else options[key] = value
  }
  for (const port of ports) {
    const spec = entry.component.inputs![port]!
    if (node.data[port] === undefined && spec.optional !== true) {
      const form = spec.list === true ? `[<stage name>, ...]` : "<stage name>"
      problems.push(problemAt(positions.keyAt(nodePath(node)), `${label}: required input port "${port}" is not connected`, `add \`${port}: ${form}\` (${spec.description})`))
    }
  }
  for (const slot of slots) {
    const spec = (entry.component.uses as Slots)[slot]!
    if (node.data[slot] === undefined && !isOptionalSlot(spec)) {
      problems.push(problemAt(positions.keyAt(nodePath(node)), `${label}: resource slot "${slot}" is not connected`, `add \`${slot}: <resource name>\` naming a resource that provides ${slotService(spec).key}`))
    }
  }
  const decoded = decodeOptions(entry.component.options, options, nodePath(node), label, positions)
  if (decoded._tag === "Invalid") problems.push(...decoded.problems)
  else if (scope.recipeDir !== undefined) problems.push(...pathProblems(entry.component.options, decoded.value, scope.recipeDir, nodePath(node), label, positions))
  if (problems.length > 0 || decoded._tag === "Invalid") return { problems }
  return { checked: { raw: node, entry, options: decoded.value, rawOptions: options as JsonRecord, inputs, inputLists, uses }, problems }
}

/**
 * A list port's value: a list of existing, distinct stage names (one name is a
 * one-element list). Each problem names the element's index and points at it.
 */
const checkListPort = (
  port: string,
  value: unknown,
  path: DocPath,
  label: string,
  scope: Pick<NodeCheckScope, "positions" | "stageNames">
): { readonly stages?: ReadonlyArray<string>; readonly problems: ReadonlyArray<RecipeProblem> } => {
  const { positions, stageNames } = scope
  const elements: ReadonlyArray<unknown> | undefined = typeof value === "string" ? [value] : Array.isArray(value) ? value : undefined
  if (elements === undefined) {
    return { problems: [problemAt(positions.valueAt(path), `${label}: input port "${port}" takes a list of stage names, got ${describeValue(value)}`, `write \`${port}: [<stage name>, <stage name>]\``)] }
  }
  if (elements.length === 0) {
    return { problems: [problemAt(positions.valueAt(path), `${label}: input port "${port}" lists no stage`, `name at least one stage, e.g. \`${port}: [<stage name>]\`, or remove the key if the port is optional`)] }
  }
  const problems: Array<RecipeProblem> = []
  const stages: Array<string> = []
  elements.forEach((element, index) => {
    const at = positions.valueAt(typeof value === "string" ? path : [...path, index])
    const where = `${label}: input port "${port}"[${index}]`
    if (typeof element !== "string") {
      problems.push(problemAt(at, `${where} takes a stage name, got ${describeValue(element)}`, "write the name of the stage whose records it reads"))
    } else if (!stageNames.includes(element)) {
      problems.push(problemAt(at, `${where} names stage "${element}", which does not exist${didYouMeanSuffix(element, stageNames)}`, `stages are: ${stageNames.join(", ")}`))
    } else if (stages.includes(element)) {
      problems.push(problemAt(at, `${where} names stage "${element}" again (it is [${stages.indexOf(element)}] too)`, "list each stage once"))
    } else stages.push(element)
  })
  return problems.length > 0 ? { problems } : { stages, problems }
}

const describeKeys = (ports: ReadonlyArray<string>, slots: ReadonlyArray<string>, options: ReadonlyArray<string>): string => {
  const parts = [
    ports.length > 0 ? `input ports ${ports.join(", ")}` : undefined,
    slots.length > 0 ? `slots ${slots.join(", ")}` : undefined,
    options.length > 0 ? `options ${options.join(", ")}` : "no options"
  ]
  return parts.filter((part) => part !== undefined).join("; ")
}
