/**
 * `refine-af plugins new <name> [--dir D]`: writes a working, tested plugin package into a new
 * folder (default `./<name without scope>`), refusing to write into a non-empty one.
 */
import { Schema } from "effect"
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { pluginFiles, pluginNameOf } from "./plugin-files.ts"

/** The scaffold was refused (bad name, folder not empty). */
export class ScaffoldInvalid extends Schema.TaggedError<ScaffoldInvalid>()("ScaffoldInvalid", {
  message: Schema.String,
  fix: Schema.String
}) {}

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const versionOf = (from: string, fallback: string): string => {
  try {
    return String((JSON.parse(readFileSync(from, "utf8")) as { version: string }).version)
  } catch {
    return fallback
  }
}

/**
 * The refine-af packages a plugin package installs as dev dependencies (the scaffold's CLI, core
 * and testing helpers, and what they depend on), as `tools/pack` names their tarballs
 * (`refine-af-<name>-<version>.tgz`): what to install where no registry has them.
 */
export const pluginTarballs: ReadonlyArray<string> = ["cli", "core", "models", "openai", "tensor", "testing", "training"]

/** The versions this CLI runs with, so the new package asks for them. */
const currentVersions = () => ({
  core: versionOf(path.join(cliDir, "../core/package.json"), "0.1.0"),
  testing: versionOf(path.join(cliDir, "../testing/package.json"), "0.1.0"),
  cli: versionOf(path.join(cliDir, "package.json"), "0.1.0"),
  effect: versionOf(path.join(path.dirname(fileURLToPath(import.meta.resolve("effect"))), "../package.json"), "4.1.0"),
  vitest: "4.1.12",
  typescript: "6.0.3",
  typesNode: "20.19.43"
})

/** Writes the package; returns its folder and the files written. */
export const scaffoldPlugin = (packageName: string, dir?: string): { readonly dir: string; readonly files: ReadonlyArray<string> } | ScaffoldInvalid => {
  if (!/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(packageName)) {
    return new ScaffoldInvalid({ message: `"${packageName}" is not a valid npm package name`, fix: "use lower case letters, digits, - . _ and an optional @scope/, e.g. refine-af-plugin-shout" })
  }
  const target = path.resolve(dir ?? packageName.replace(/^@[^/]+\//, ""))
  if (existsSync(target) && readdirSync(target).length > 0) {
    return new ScaffoldInvalid({ message: `${target} exists and is not empty`, fix: "choose another --dir, or remove the folder" })
  }
  const files = pluginFiles({ packageName, pluginName: pluginNameOf(packageName), versions: currentVersions() })
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(target, file)), { recursive: true })
    writeFileSync(path.join(target, file), text)
  }
  return { dir: target, files: Object.keys(files) }
}
