/**
 * Finds the refine-af plugins installed around a folder, for `refine-af
 * plugins` with no arguments. A package is a plugin when its package.json says
 * so — `"refine-af": { "plugin": true }` or the keyword `refine-af-plugin` —
 * so discovery reads package.json files only and imports nothing else.
 *
 * Looked at: the packages of the npm workspace around the folder, and every
 * `node_modules` from the folder (and refine-af's own install folder) up to the
 * filesystem root, scoped packages included.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { discoverPlugins } from "@refine-af/core"
 * const { plugins, failures } = await Effect.runPromise(discoverPlugins([process.cwd()]))
 * ```
 */
import { Effect } from "effect"
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { loadPluginList, type PluginList } from "./load-list.ts"

/** An installed package whose package.json declares it a refine-af plugin. */
export interface DiscoveredPlugin {
  /** npm package name. */
  readonly name: string
  /** Its folder (symlinks resolved). */
  readonly dir: string
  /** What to load it by: the package name when node_modules has it, else its folder. */
  readonly specifier: string
}

/** The package.json field and keyword that mark a plugin package. */
export const pluginMarker = { field: "refine-af", keyword: "refine-af-plugin" } as const

const readJson = (file: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(readFileSync(file, "utf8"))
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** True when a package.json declares a refine-af plugin. */
export const declaresPlugin = (packageJson: Readonly<Record<string, unknown>>): boolean => {
  const field = packageJson[pluginMarker.field]
  const flagged = typeof field === "object" && field !== null && (field as { plugin?: unknown }).plugin === true
  const keywords = packageJson["keywords"]
  return flagged || (Array.isArray(keywords) && keywords.includes(pluginMarker.keyword))
}

const subfolders = (dir: string): Array<string> => {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => (entry.isDirectory() || entry.isSymbolicLink()) && !entry.name.startsWith("."))
      .map((entry) => path.join(dir, entry.name))
  } catch {
    return []
  }
}

/** Package folders directly in a node_modules folder (`@scope/name` included). */
const packagesIn = (nodeModules: string): Array<string> =>
  subfolders(nodeModules).flatMap((dir) => path.basename(dir).startsWith("@") ? subfolders(dir) : [dir])

const ancestors = (from: string): Array<string> => {
  const chain = [path.resolve(from)]
  while (path.dirname(chain.at(-1)!) !== chain.at(-1)) chain.push(path.dirname(chain.at(-1)!))
  return chain
}

/** Package folders of the nearest npm workspace root above `from` (`packages/*` patterns and plain folders). */
const workspacePackages = (from: string): Array<string> => {
  for (const dir of ancestors(from)) {
    const json = readJson(path.join(dir, "package.json"))
    const field = json?.["workspaces"]
    const patterns = Array.isArray(field) ? field : (field as { packages?: unknown } | undefined)?.packages
    if (!Array.isArray(patterns)) continue
    return patterns.filter((pattern): pattern is string => typeof pattern === "string").flatMap((pattern) =>
      pattern.endsWith("/*") ? subfolders(path.join(dir, pattern.slice(0, -2))) : [path.join(dir, pattern)]
    )
  }
  return []
}

/** refine-af's own install folder: plugins installed next to the CLI are found from anywhere. */
const ownInstallDir = path.dirname(fileURLToPath(import.meta.url))

/** Every plugin package around `searchFrom` (the folders themselves, their workspaces and node_modules, and refine-af's install folder), sorted by name, each once. */
export const discoverPluginPackages = (searchFrom: ReadonlyArray<string>): ReadonlyArray<DiscoveredPlugin> => {
  const found = new Map<string, DiscoveredPlugin>()
  const consider = (dir: string, viaNodeModules: boolean) => {
    const json = readJson(path.join(dir, "package.json"))
    const name = json?.["name"]
    if (json === undefined || typeof name !== "string" || !declaresPlugin(json)) return
    const known = found.get(name)
    // node_modules wins: the package name then resolves to that copy when it is loaded.
    if (known !== undefined && (known.specifier === name || !viaNodeModules)) return
    let real = dir
    try {
      real = realpathSync(dir)
    } catch { /* keep the path as found */ }
    found.set(name, { name, dir: real, specifier: viaNodeModules ? name : real })
  }
  for (const from of searchFrom) for (const dir of workspacePackages(from)) consider(dir, false)
  // The package being worked on: a plugin's own folder lists the plugin (run there, `refine-af plugins`).
  for (const from of searchFrom) consider(from, false)
  for (const from of [...searchFrom, ownInstallDir]) {
    for (const dir of ancestors(from)) {
      const nodeModules = path.join(dir, "node_modules")
      if (existsSync(nodeModules)) for (const pkg of packagesIn(nodeModules)) consider(pkg, true)
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/** Discovers and loads the installed plugins; packages that fail to load are returned as failures, not fatal. */
export const discoverPlugins = (searchFrom: ReadonlyArray<string>): Effect.Effect<PluginList> =>
  Effect.suspend(() => loadPluginList(discoverPluginPackages(searchFrom).map((plugin) => plugin.specifier), { searchFrom }))
