/**
 * A plugin must use refine-af's own copies of `effect` and `@refine-af/core` (its peer
 * dependencies): Context services, Schemas and tagged errors are identified by module
 * identity, so a second copy makes every lookup miss. Checked before the plugin is imported,
 * from where Node would resolve each package for the plugin and for refine-af.
 *
 * @example
 * ```ts
 * import { duplicateSharedDependency } from "@refine-af/core"
 * const problem = duplicateSharedDependency("./my-plugin", "/work/my-plugin")
 * if (problem !== undefined) console.error(problem.message, problem.fix)
 * ```
 */
import * as path from "node:path"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { PluginDuplicateDependency } from "./errors.ts"
import { findPackageDir } from "./package-entry.ts"

/** The packages a plugin must share with refine-af. */
export const sharedDependencies = ["effect", "@refine-af/core"] as const

const coreDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

const versionOf = (dir: string): string => {
  try {
    return String((JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version?: unknown }).version ?? "?")
  } catch {
    return "?"
  }
}

/** The first shared package the plugin in `pluginDir` would load its own copy of, as an error; undefined when all are shared. */
export const duplicateSharedDependency = (specifier: string, pluginDir: string): PluginDuplicateDependency | undefined => {
  for (const dependency of sharedDependencies) {
    const ours = dependency === "@refine-af/core" ? coreDir : findPackageDir(dependency, coreDir)
    const theirs = findPackageDir(dependency, pluginDir)
    if (ours === undefined || theirs === undefined || theirs === ours) continue
    return new PluginDuplicateDependency({
      specifier,
      dependency,
      pluginCopy: theirs,
      refineAfCopy: ours,
      message: `plugin "${specifier}" would load its own copy of ${dependency} (${versionOf(theirs)} at ${theirs}) ` +
        `instead of refine-af's (${versionOf(ours)} at ${ours}); two copies of ${dependency} cannot share services or schemas`,
      fix: `declare ${dependency} in the plugin's "peerDependencies" (not "dependencies"), remove ${theirs}, ` +
        "and run `npm dedupe` (or reinstall) in the project that holds both; see docs/plugin-authoring.md"
    })
  }
  return undefined
}
