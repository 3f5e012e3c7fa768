/**
 * What a recipe may write under `plugins:`: an npm package name (resolved from
 * node_modules) or an explicit local path (`./`, `../`, `/`). Anything else —
 * URLs, `data:` and `node:` specifiers, bare relative paths — is refused, so a
 * recipe can only run code the user installed or pointed at on purpose.
 *
 * @example
 * ```ts
 * import { classifyPluginSpecifier } from "@refine-af/core"
 * classifyPluginSpecifier("@refine-af/plugin-demo") // { _tag: "Package", name: "@refine-af/plugin-demo" }
 * ```
 */

/** A plugin specifier that passed the safety check. */
export type PluginSpecifier =
  | { readonly _tag: "Package"; readonly name: string }
  | { readonly _tag: "Path"; readonly path: string }

/** A specifier that was refused, with the reason and fix. */
export interface UnsafeSpecifier {
  readonly _tag: "Unsafe"
  readonly reason: string
  readonly fix: string
}

const npmPackageName = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/
const urlScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:/

/** Classifies a `plugins:` entry as a package, an explicit path, or unsafe. */
export const classifyPluginSpecifier = (specifier: string): PluginSpecifier | UnsafeSpecifier => {
  if (specifier.startsWith("./") || specifier.startsWith("../") || specifier.startsWith("/")) {
    return { _tag: "Path", path: specifier }
  }
  const scheme = urlScheme.exec(specifier)?.[0]
  if (scheme !== undefined) {
    return {
      _tag: "Unsafe",
      reason: `plugin "${specifier}" uses the "${scheme}" scheme; plugins load only from installed packages or explicit local paths`,
      fix: scheme === "node:"
        ? "Node builtins are not plugins: list an npm package that exports definePlugin(...)"
        : "install the plugin (npm install <package>) and list its package name, or download it and write a ./ path"
    }
  }
  if (npmPackageName.test(specifier) && specifier.length <= 214) return { _tag: "Package", name: specifier }
  return {
    _tag: "Unsafe",
    reason: `plugin "${specifier}" is neither an npm package name nor an explicit path`,
    fix: "write a package name like \"@scope/name\", or a local path starting with ./ ../ or /"
  }
}
