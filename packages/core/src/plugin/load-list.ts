/**
 * Loads a list of plugins (a recipe's `plugins:` or the CLI's arguments),
 * reporting every failure, not just the first, and refusing two plugins with
 * the same name (component ids would be ambiguous).
 */
import { Effect, Result } from "effect"
import type { LoadedPlugin } from "../recipe/resolved.ts"
import type { PluginLoadError } from "./errors.ts"
import { loadPlugin, type PluginSearchOptions } from "./loader.ts"

/** A plugin list entry that could not be used, by its index in the list. */
export interface PluginListFailure {
  readonly index: number
  readonly specifier: string
  readonly message: string
  readonly fix?: string
}

/** The plugins that loaded, in list order, and every failure. */
export interface PluginList {
  readonly plugins: ReadonlyArray<LoadedPlugin>
  readonly failures: ReadonlyArray<PluginListFailure>
}

const failureOf = (index: number, error: PluginLoadError): PluginListFailure => ({
  index,
  specifier: error.specifier,
  message: error.message,
  fix: error.fix
})

/** Loads every specifier (in order); never fails, failures are returned. */
export const loadPluginList = (
  specifiers: ReadonlyArray<string>,
  options: PluginSearchOptions
): Effect.Effect<PluginList> =>
  Effect.gen(function*() {
    const plugins: Array<LoadedPlugin> = []
    const failures: Array<PluginListFailure> = []
    for (const [index, specifier] of specifiers.entries()) {
      const result = yield* Effect.result(loadPlugin(specifier, options))
      if (Result.isFailure(result)) {
        failures.push(failureOf(index, result.failure))
        continue
      }
      const clash = plugins.find((plugin) => plugin.manifest.name === result.success.manifest.name)
      if (clash !== undefined) {
        failures.push({
          index,
          specifier,
          message: `plugin name "${clash.manifest.name}" is used by both "${clash.specifier}" and "${specifier}"`,
          fix: clash.packageName === result.success.packageName ? "list each plugin once" : "keep only one of them: component ids (<plugin>/<component>) must be unambiguous"
        })
        continue
      }
      plugins.push(result.success)
    }
    return { plugins, failures }
  })
