/**
 * Loads the plugins a recipe lists — and only those: resolves each specifier
 * (package name from node_modules relative to the recipe's folder and the cwd,
 * or an explicit ./ ../ / path), imports the module, and checks that its
 * default export is a plugin manifest. Nothing is instantiated.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { loadPlugin } from "@refine-af/core"
 * const demo = loadPlugin("@refine-af/plugin-demo", { searchFrom: [process.cwd()] })
 * ```
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { LoadedPlugin } from "../recipe/resolved.ts"
import { manifestProblems } from "./check-manifest.ts"
import {
  PluginImportFailed,
  PluginManifestInvalid,
  PluginNotFound,
  PluginSpecifierUnsafe,
  type PluginLoadError
} from "./errors.ts"
import { importPluginEntry } from "./import-entry.ts"
import type { PluginManifest } from "./manifest.ts"
import { duplicateSharedDependency } from "./shared-deps.ts"
import { findPackageDir, isDirectory, readPackageInfo, type PackageInfo } from "./package-entry.ts"
import { classifyPluginSpecifier } from "./specifier.ts"

/** Where to look for plugins. */
export interface PluginSearchOptions {
  /** Folders whose node_modules (and ancestors') are searched for packages, in order, before refine-af's own install folder; explicit paths resolve against the first. */
  readonly searchFrom: ReadonlyArray<string>
}

/**
 * Searched after the caller's folders: where refine-af itself is installed, so
 * a recipe copied anywhere finds plugins installed next to the CLI (a global
 * or project install). Still only the packages the recipe names are loaded.
 */
const refineAfInstallDir = path.dirname(fileURLToPath(import.meta.url))

const locate = (specifier: string, options: PluginSearchOptions): Effect.Effect<PackageInfo, PluginLoadError> => {
  const classified = classifyPluginSpecifier(specifier)
  switch (classified._tag) {
    case "Unsafe":
      return Effect.fail(new PluginSpecifierUnsafe({ specifier, message: classified.reason, fix: classified.fix }))
    case "Package": {
      for (const from of [...options.searchFrom, refineAfInstallDir]) {
        const dir = findPackageDir(classified.name, from)
        const info = dir === undefined ? undefined : readPackageInfo(dir)
        if (info !== undefined) return Effect.succeed(info)
      }
      return Effect.fail(new PluginNotFound({
        specifier,
        message: `plugin package "${classified.name}" is not installed`,
        fix: `run \`npm install ${classified.name}\``
      }))
    }
    case "Path": {
      const target = path.resolve(options.searchFrom[0] ?? process.cwd(), classified.path)
      if (isDirectory(target) && !existsSync(path.join(target, "package.json"))) {
        return Effect.fail(new PluginNotFound({
          specifier,
          message: `plugin folder "${classified.path}" has no package.json (resolved to ${target})`,
          fix: "point at the plugin's package folder, or at its entry file"
        }))
      }
      const info = isDirectory(target)
        ? readPackageInfo(target)
        : existsSync(target)
        ? { dir: path.dirname(target), name: specifier, version: "0.0.0", entry: target }
        : undefined
      if (info !== undefined) return Effect.succeed(info)
      return Effect.fail(new PluginNotFound({
        specifier,
        message: `plugin path "${classified.path}" does not exist (resolved to ${target})`,
        fix: "check the path; relative paths resolve against the recipe's folder"
      }))
    }
  }
}

/**
 * Why importing a plugin's entry failed: the error's first lines (a TypeScript syntax error's
 * second line names the file, line and column) and, for an error thrown while the plugin's
 * modules run, the first place in the plugin's folder that its stack names.
 */
export const importFailure = (cause: unknown, pluginDir: string): string => {
  if (!(cause instanceof Error)) return String(cause)
  const lines = cause.message.split("\n").map((line) => line.trim()).filter((line) => line !== "")
  const message = lines.slice(0, 4).join(" ").slice(0, 600)
  if (/:\d+:\d+/.test(message)) return message
  const inPlugin = (cause.stack ?? "").split("\n").slice(1).map((frame) => /\(?((?:file:\/\/)?\/[^()]+:\d+:\d+)\)?\s*$/.exec(frame)?.[1])
    .find((place) => place !== undefined && place.replace(/^file:\/\//, "").startsWith(pluginDir + path.sep))
  return inPlugin === undefined ? message : `${message} (at ${inPlugin.replace(/^file:\/\//, "")})`
}

const importManifest = (specifier: string, entry: string, pluginDir: string, isPath: boolean): Effect.Effect<PluginManifest, PluginLoadError> =>
  Effect.tryPromise({
    try: () => importPluginEntry(entry),
    catch: (cause) =>
      new PluginImportFailed({
        specifier,
        message: `importing plugin "${specifier}" failed: ${importFailure(cause, pluginDir)}`,
        fix: (cause as { code?: unknown } | undefined)?.code === "ERR_MODULE_NOT_FOUND"
          ? isPath ? "install the plugin's dependencies (npm install in its folder), or fix the import" : "reinstall the plugin package with its dependencies"
          : isPath ? "fix the plugin's code where the message points" : "fix the plugin where the message points, or reinstall the plugin package"
      })
  }).pipe(Effect.flatMap((module) => {
    const problems = manifestProblems(module.default)
    return problems.length === 0
      ? Effect.succeed(module.default as PluginManifest)
      : Effect.fail(new PluginManifestInvalid({
        specifier,
        message: `plugin "${specifier}" is not a valid plugin: ${problems.join("; ")}`,
        fix: "the package's default export must be definePlugin({ name, version, components })"
      }))
  }))

/** Resolves, imports and checks one plugin. */
export const loadPlugin = (specifier: string, options: PluginSearchOptions): Effect.Effect<LoadedPlugin, PluginLoadError> =>
  Effect.gen(function*() {
    const info = yield* locate(specifier, options)
    if (info.entry === undefined || !existsSync(info.entry)) {
      return yield* new PluginImportFailed({
        specifier,
        message: `plugin package "${info.name}" has no importable entry point (${info.entry ?? "no \"exports\" for import"})`,
        fix: "reinstall the package, or check its package.json \"exports\" / \"main\""
      })
    }
    const duplicate = duplicateSharedDependency(specifier, info.dir)
    if (duplicate !== undefined) return yield* duplicate
    const isPath = classifyPluginSpecifier(specifier)._tag === "Path"
    const manifest = yield* importManifest(specifier, info.entry, info.dir, isPath)
    const isFile = info.name === specifier && isPath
    return {
      specifier,
      packageName: isFile ? manifest.name : info.name,
      packageVersion: isFile ? manifest.version : info.version,
      manifest
    }
  })
