/**
 * Imports a plugin's entry file. A plugin run from its TypeScript sources (as
 * `refine-af plugins new` makes it) loads through the TypeScript loader the process already
 * has: the repository's `bin/refine-af.js` registers tsx, vitest compiles on its own. The
 * installed CLI runs built JavaScript and registers nothing at start-up (that would slow every
 * command down); when Node then refuses a `.ts` entry, tsx is registered on that first need
 * (`@refine-af/cli` depends on it) and the entry imported again under a fresh URL (Node keeps
 * the failed attempt cached under the plain one). Packages the plugin imports resolve to the
 * same files as before, so the plugin shares refine-af's `effect` and `@refine-af/core`.
 *
 * @example
 * ```ts
 * import { importPluginEntry } from "./import-entry.ts"
 * const module = await importPluginEntry("/work/shout/src/index.ts")
 * ```
 */
import { pathToFileURL } from "node:url"

const isTypeScript = (file: string) => /\.(m|c)?tsx?$/.test(file)

/** Node's refusals of a TypeScript file it cannot run by itself. */
const refusesTypeScript = (cause: unknown) => {
  const code = (cause as { code?: unknown } | null)?.code
  return code === "ERR_UNKNOWN_FILE_EXTENSION" || code === "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING"
}

/** No TypeScript loader could be registered for a `.ts` plugin entry. */
export class TypeScriptLoaderMissing extends Error {
  override readonly name = "TypeScriptLoaderMissing"
}

/**
 * Registers tsx's loader, once per process: Node's loader hooks are process-wide, and a plugin
 * imported again (discovered, then loaded) fails again under its cached plain URL.
 */
let tsxRegistered: Promise<boolean> | undefined
const registerTsx = () =>
  tsxRegistered ??= import("tsx/esm/api").then(({ register }) => {
    register()
    return true
  }, () => false)

/** Imports `entry` (an absolute file path), registering tsx first when it is TypeScript and Node cannot load it. */
export const importPluginEntry = async (entry: string): Promise<Record<string, unknown>> => {
  const url = pathToFileURL(entry).href
  try {
    return await import(url) as Record<string, unknown>
  } catch (cause) {
    if (!isTypeScript(entry) || !refusesTypeScript(cause)) throw cause
  }
  if (!(await registerTsx())) {
    throw new TypeScriptLoaderMissing(
      `${entry} is TypeScript and this process has no TypeScript loader; install tsx next to refine-af (npm install tsx) or build the plugin to JavaScript`
    )
  }
  return await import(`${url}?typescript`) as Record<string, unknown>
}
