/**
 * The recipe's top level: which keys exist and what type each has, before any
 * component is looked at. Produces the outline the node validator walks.
 */
import { problemAt, type RecipeProblem } from "./errors.ts"
import type { DocPath, PositionIndex } from "./positions.ts"
import { didYouMeanSuffix } from "./suggest.ts"

/** The two sections that hold nodes. */
export type NodeSection = "stages" | "resources"

/** One stage or resource as written: its name and its mapping. */
export interface RawNode {
  readonly section: NodeSection
  readonly name: string
  readonly data: Readonly<Record<string, unknown>>
}

/** The recipe's top level after shape checks. */
export interface RecipeOutline {
  readonly name: string
  readonly description?: string
  readonly seed: number
  readonly resources: ReadonlyArray<RawNode>
  readonly stages: ReadonlyArray<RawNode>
}

/** Keys a recipe may have at the top level. */
export const topLevelKeys = ["name", "description", "seed", "plugins", "resources", "stages"] as const

/** Seed used when a recipe does not set one. */
export const defaultSeed = 0

const nodeName = /^[A-Za-z_][A-Za-z0-9_-]*$/

/** True for a plain (non-array) object, the data form of a YAML mapping. */
export const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A short description of a value's YAML type for "expected X, got Y" messages. */
export const describeValue = (value: unknown): string =>
  value === null || value === undefined
    ? "nothing"
    : Array.isArray(value)
    ? "a list"
    : isMapping(value)
    ? "a mapping"
    : typeof value === "string"
    ? `the string ${JSON.stringify(value)}`
    : `${typeof value} ${String(value)}`

/** One string entry of `plugins:` and its index in the list. */
export interface PluginListEntry {
  readonly index: number
  readonly specifier: string
}

/** Checks the `plugins:` list and returns its string entries with their index. */
export const checkPluginList = (
  document: unknown,
  positions: PositionIndex
): { readonly entries: ReadonlyArray<PluginListEntry>; readonly problems: ReadonlyArray<RecipeProblem> } => {
  if (!isMapping(document)) return { entries: [], problems: [] }
  const plugins = document.plugins
  if (plugins === undefined) {
    return {
      entries: [],
      problems: [problemAt(positions.valueAt([]), "missing required key \"plugins\"", "add `plugins:` listing the npm packages that provide your components")]
    }
  }
  if (!Array.isArray(plugins)) {
    return {
      entries: [],
      problems: [problemAt(positions.valueAt(["plugins"]), `"plugins" must be a list of package names, got ${describeValue(plugins)}`, "write one package per line: `plugins:` then `  - \"@refine-af/plugin-demo\"`")]
    }
  }
  const problems: Array<RecipeProblem> = []
  const entries: Array<PluginListEntry> = []
  plugins.forEach((entry, index) => {
    if (typeof entry === "string") entries.push({ index, specifier: entry })
    else problems.push(problemAt(positions.valueAt(["plugins", index]), `plugins[${index}] must be a package name string, got ${describeValue(entry)}`, "write the npm package name (or a ./relative folder) as a quoted string"))
  })
  return { entries, problems }
}

const checkNodes = (
  document: Record<string, unknown>,
  section: NodeSection,
  positions: PositionIndex,
  problems: Array<RecipeProblem>
): Array<RawNode> => {
  const value = document[section]
  if (value === undefined) {
    if (section === "stages") problems.push(problemAt(positions.valueAt([]), "missing required key \"stages\"", "add `stages:` with at least one stage"))
    return []
  }
  if (!isMapping(value)) {
    problems.push(problemAt(positions.valueAt([section]), `"${section}" must be a mapping of name → node, got ${describeValue(value)}`, `write \`${section}:\` then one indented \`<name>:\` per ${section.slice(0, -1)}, each with a \`_component_:\` line`))
    return []
  }
  if (section === "stages" && Object.keys(value).length === 0) {
    problems.push(problemAt(positions.valueAt([section]), "\"stages\" is empty", "add at least one stage"))
  }
  const nodes: Array<RawNode> = []
  for (const [name, data] of Object.entries(value)) {
    const path: DocPath = [section, name]
    if (!nodeName.test(name)) {
      problems.push(problemAt(positions.keyAt(path), `${section.slice(0, -1)} name "${name}" is not allowed`, "use letters, digits, _ and - (starting with a letter or _)"))
    }
    if (!isMapping(data)) {
      problems.push(problemAt(positions.valueAt(path), `${section.slice(0, -1)} "${name}" must be a mapping with a _component_ key, got ${describeValue(data)}`, `indent under \`${name}:\` a line \`_component_: <plugin>/<component>\` and its options (\`refine-af plugins\` lists components)`))
      continue
    }
    nodes.push({ section, name, data })
  }
  return nodes
}

/** Checks the top level and returns its outline with every problem found. */
export const checkTopLevel = (
  document: unknown,
  positions: PositionIndex,
  fallbackName: string
): { readonly outline: RecipeOutline | undefined; readonly problems: ReadonlyArray<RecipeProblem> } => {
  if (!isMapping(document)) {
    return {
      outline: undefined,
      problems: [problemAt(
        positions.valueAt([]),
        document === null ? "the recipe is empty" : `the recipe must be a mapping at the top level, got ${describeValue(document)}`,
        `write a mapping with the keys ${topLevelKeys.join(", ")}`
      )]
    }
  }
  const problems: Array<RecipeProblem> = []
  for (const key of Object.keys(document)) {
    if (!(topLevelKeys as ReadonlyArray<string>).includes(key)) {
      problems.push(problemAt(
        positions.keyAt([key]),
        `unknown top-level key "${key}"${didYouMeanSuffix(key, topLevelKeys)}`,
        `the top level may hold only ${topLevelKeys.join(", ")}`
      ))
    }
  }
  const { name, description, seed } = document
  if (name !== undefined && typeof name !== "string") {
    problems.push(problemAt(positions.valueAt(["name"]), `"name" must be a string, got ${describeValue(name)}`, "quote it, e.g. `name: \"my-recipe\"`"))
  }
  if (description !== undefined && typeof description !== "string") {
    problems.push(problemAt(positions.valueAt(["description"]), `"description" must be a string, got ${describeValue(description)}`, "quote it, or write it as a `|` block"))
  }
  if (seed !== undefined && !(typeof seed === "number" && Number.isSafeInteger(seed) && seed >= 0)) {
    problems.push(problemAt(positions.valueAt(["seed"]), `"seed" must be a non-negative integer, got ${describeValue(seed)}`, `write a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, unquoted (e.g. \`seed: 42\`)`))
  }
  const resources = checkNodes(document, "resources", positions, problems)
  const stages = checkNodes(document, "stages", positions, problems)
  const outline: RecipeOutline = {
    name: typeof name === "string" ? name : fallbackName,
    ...(typeof description === "string" ? { description } : {}),
    seed: typeof seed === "number" ? seed : defaultSeed,
    resources,
    stages
  }
  return { outline, problems }
}
