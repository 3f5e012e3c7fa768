/**
 * Finds an installed package's folder and its ESM entry file the way Node
 * does (node_modules lookup up the folder tree, then `exports` / `main`),
 * without requiring the package to export its package.json.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs"
import * as path from "node:path"

/** What the loader needs from a package.json. */
export interface PackageInfo {
  readonly dir: string
  readonly name: string
  readonly version: string
  readonly entry: string | undefined
}

const activeConditions = new Set(["import", "node", "default"])

/** Resolves an `exports` target under the conditions an ESM import in Node uses. */
const resolveTarget = (target: unknown): string | undefined => {
  if (typeof target === "string") return target
  if (Array.isArray(target)) {
    for (const candidate of target) {
      const resolved = resolveTarget(candidate)
      if (resolved !== undefined) return resolved
    }
    return undefined
  }
  if (typeof target === "object" && target !== null) {
    for (const [condition, nested] of Object.entries(target)) {
      if (activeConditions.has(condition)) {
        const resolved = resolveTarget(nested)
        if (resolved !== undefined) return resolved
      }
    }
  }
  return undefined
}

const rootExport = (exportsField: unknown): unknown => {
  if (typeof exportsField !== "object" || exportsField === null || Array.isArray(exportsField)) return exportsField
  const keys = Object.keys(exportsField)
  return keys.some((key) => key.startsWith(".")) ? (exportsField as Record<string, unknown>)["."] : exportsField
}

/** Reads `dir/package.json` (undefined when absent or unreadable). */
export const readPackageInfo = (dir: string): PackageInfo | undefined => {
  const manifestFile = path.join(dir, "package.json")
  if (!existsSync(manifestFile)) return undefined
  let json: Record<string, unknown>
  try {
    json = JSON.parse(readFileSync(manifestFile, "utf8")) as Record<string, unknown>
  } catch {
    return undefined
  }
  const relativeEntry = json.exports !== undefined
    ? resolveTarget(rootExport(json.exports))
    : typeof json.module === "string" ? json.module : typeof json.main === "string" ? json.main : "index.js"
  return {
    dir,
    name: typeof json.name === "string" ? json.name : path.basename(dir),
    version: typeof json.version === "string" ? json.version : "0.0.0",
    entry: relativeEntry === undefined ? undefined : path.resolve(dir, relativeEntry)
  }
}

/** The real folder of package `name` visible from `fromDir` (walking up through node_modules), if any. */
export const findPackageDir = (name: string, fromDir: string): string | undefined => {
  let dir = path.resolve(fromDir)
  for (;;) {
    const candidate = path.join(dir, "node_modules", name)
    if (existsSync(path.join(candidate, "package.json"))) return realpathSync(candidate)
    const parent = path.dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** True when `file` is an existing directory. */
export const isDirectory = (file: string): boolean => {
  try {
    return statSync(file).isDirectory()
  } catch {
    return false
  }
}
