/**
 * CLI overrides `key.path=value`: change one value of the recipe without
 * editing the file (`stages.gen.max_instructions=100`, `seed=7`). Only values
 * under `stages`, `resources`, `seed` and `name` can be overridden — the plugin
 * list cannot, so an override never changes which code runs. The value is YAML
 * (`[a, b]`, `{temperature: 0.7}`, `true`), with the same no-tags/no-aliases rule.
 *
 * @example
 * ```ts
 * import { loadRecipe } from "@refine-af/core"
 * const recipe = loadRecipe("recipes/quickstart.yaml", { overrides: ["seed=7", "stages.gen.max_instructions=100"] })
 * ```
 */
import type { CatalogEntry } from "../plugin/catalog.ts"
import { nodeKeys } from "../plugin/catalog.ts"
import { problemAt, type RecipeProblem } from "./errors.ts"
import { parseRecipeYaml } from "./parse-yaml.ts"
import type { DocPath, PositionIndex } from "./positions.ts"
import { isMapping } from "./structure.ts"
import { optionKeysAt } from "./schema-keys.ts"
import { didYouMeanSuffix } from "./suggest.ts"

/** Top-level keys an override may start with. */
export const overridableKeys = ["stages", "resources", "seed", "name"] as const

/** How problems name an override: it has no file, so the override text stands in for one. */
export const overrideLabel = (override: string): string => `override "${override}"`

type Target = {
  readonly path: DocPath
  readonly parent: Record<string, unknown> | Array<unknown>
  readonly key: string | number
  /** Missing keys between `parent[key]` and the value, outermost first: written as nested mappings. */
  readonly created?: ReadonlyArray<string>
}

/** Walks `segments` through the document, checking each against what exists or may exist. */
const resolveTarget = (
  document: Record<string, unknown>,
  segments: ReadonlyArray<string>,
  catalog: ReadonlyMap<string, CatalogEntry>
): Target | string => {
  const [head, node, ...rest] = segments
  if (head === undefined || !(overridableKeys as ReadonlyArray<string>).includes(head)) {
    return `cannot override "${head ?? ""}"${didYouMeanSuffix(head ?? "", overridableKeys)}; overrides may set values under ${overridableKeys.join(", ")}`
  }
  if (head === "seed" || head === "name") {
    return segments.length === 1 ? { path: [head], parent: document, key: head } : `"${head}" has no sub-keys`
  }
  const section = isMapping(document[head]) ? document[head] : {}
  if (node === undefined) return `say which ${head.slice(0, -1)} to change: ${head}.<name>.<key>=<value>`
  const nodeData = section[node]
  if (!isMapping(nodeData)) return `no ${head.slice(0, -1)} named "${node}"${didYouMeanSuffix(node, Object.keys(section))}`
  const [key, ...deeper] = rest
  if (key === undefined) return `say which key of ${head.slice(0, -1)} "${node}" to change: ${head}.${node}.<key>=<value>`
  const componentId = nodeData._component_
  const entry = typeof componentId === "string" ? catalog.get(componentId) : undefined
  const allowed = new Set([...Object.keys(nodeData), ...(entry === undefined ? [] : nodeKeys(entry.component))])
  if (!allowed.has(key)) return `${head.slice(0, -1)} "${node}" has no key "${key}"${didYouMeanSuffix(key, allowed)}`
  let parent: Record<string, unknown> | Array<unknown> = nodeData
  let current: string | number = key
  const path: Array<string | number> = [head, node, key]
  // Keys below the last existing mapping: created as nested mappings when the value is written.
  const created: Array<string> = []
  const schemaKeys = (): ReadonlyArray<string> | undefined => {
    const optionPath = path.slice(2)
    if (entry === undefined || optionPath.some((segment) => typeof segment === "number")) return undefined
    return optionKeysAt(entry.component.options, optionPath as ReadonlyArray<string>)
  }
  const unknownKey = (segment: string, written: ReadonlyArray<string>): string | undefined => {
    const known = schemaKeys()
    if (known === undefined || known.includes(segment)) return undefined
    return `"${path.join(".")}" has no key "${segment}"${didYouMeanSuffix(segment, [...new Set([...known, ...written])])}`
  }
  for (const segment of deeper) {
    const value: unknown = created.length > 0 ? undefined : Array.isArray(parent) ? parent[current as number] : parent[current as string]
    if (Array.isArray(value)) {
      const index = Number(segment)
      if (!/^\d+$/.test(segment) || index >= value.length) return `"${path.join(".")}" has no item ${segment} (it has ${value.length})`
      parent = value
      current = index
    } else if (isMapping(value)) {
      if (!(segment in value)) {
        const problem = unknownKey(segment, Object.keys(value))
        if (problem !== undefined) return problem
      }
      parent = value
      current = segment
    } else if ((value === undefined || value === null) && !Array.isArray(parent)) {
      // An option block the recipe leaves at its defaults (or writes empty): the override creates it.
      const problem = unknownKey(segment, [])
      if (problem !== undefined) return problem
      created.push(segment)
    } else {
      return `"${path.join(".")}" is not a mapping or list, so it has no "${segment}"`
    }
    path.push(created.length > 0 ? segment : current)
  }
  return { path, parent, key: current, created }
}

/** Sets a key even when it is named `__proto__` (an own data property, never the prototype). */
const defineKey = (target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> =>
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })

/**
 * Applies `overrides` in order to a copy of `document`, recording each new
 * value's position as the override text. Returns the new document and every
 * problem (malformed override, unknown path, bad YAML value).
 */
export const applyOverrides = (
  document: unknown,
  overrides: ReadonlyArray<string>,
  positions: PositionIndex,
  catalog: ReadonlyMap<string, CatalogEntry>
): { readonly document: unknown; readonly problems: ReadonlyArray<RecipeProblem> } => {
  if (overrides.length === 0 || !isMapping(document)) return { document, problems: [] }
  const result = structuredClone(document)
  const problems: Array<RecipeProblem> = []
  for (const override of overrides) {
    const file = overrideLabel(override)
    const equals = override.indexOf("=")
    if (equals <= 0) {
      problems.push(problemAt({ file, line: 1, column: 1 }, "an override must look like key.path=value", "e.g. stages.gen.max_instructions=100"))
      continue
    }
    const target = resolveTarget(result, override.slice(0, equals).split("."), catalog)
    if (typeof target === "string") {
      problems.push(problemAt({ file, line: 1, column: 1 }, target, "check the key path against the recipe (`refine-af plugins --recipe <recipe>` lists each component's options)"))
      continue
    }
    const parsed = parseRecipeYaml(file, override.slice(equals + 1), { columnOffset: equals + 1 })
    problems.push(...parsed.problems)
    if (parsed.problems.length > 0) continue
    const created = target.created ?? []
    const value = created.reduceRight<unknown>((inner, segment) => defineKey({}, segment, inner), parsed.value)
    if (Array.isArray(target.parent)) target.parent[target.key as number] = value
    else defineKey(target.parent, target.key as string, value)
    const writtenPath = target.path.slice(0, target.path.length - created.length)
    positions.clear(writtenPath)
    positions.graft(target.path, parsed.positions)
    for (let length = writtenPath.length; length <= target.path.length; length++) {
      positions.set(target.path.slice(0, length), { key: { file, line: 1, column: 1 } })
    }
  }
  return { document: result, problems }
}
