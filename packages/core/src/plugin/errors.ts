/**
 * Why a plugin listed in a recipe could not be loaded: one error per failure
 * mode, each with a message naming the plugin and a fix.
 */
import { Schema } from "effect"

/** The `plugins:` entry is neither an npm package name nor an explicit ./ ../ or / path (URLs, `data:`, `node:` ...). */
export class PluginSpecifierUnsafe extends Schema.TaggedError<PluginSpecifierUnsafe>()("PluginSpecifierUnsafe", {
  specifier: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** No installed package or file matches the specifier. */
export class PluginNotFound extends Schema.TaggedError<PluginNotFound>()("PluginNotFound", {
  specifier: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** Importing the plugin module threw. */
export class PluginImportFailed extends Schema.TaggedError<PluginImportFailed>()("PluginImportFailed", {
  specifier: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** The module's default export is not a valid plugin manifest. */
export class PluginManifestInvalid extends Schema.TaggedError<PluginManifestInvalid>()("PluginManifestInvalid", {
  specifier: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** Every way loading one plugin can fail. */
/**
 * The plugin would load its own copy of a package that must be shared with refine-af
 * (`effect`, `@refine-af/core`): services and schemas from two copies do not match, which
 * used to fail deep inside a run ("Cannot convert a Symbol value to a number").
 */
export class PluginDuplicateDependency extends Schema.TaggedError<PluginDuplicateDependency>()("PluginDuplicateDependency", {
  specifier: Schema.String,
  dependency: Schema.String,
  pluginCopy: Schema.String,
  refineAfCopy: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

export type PluginLoadError = PluginSpecifierUnsafe | PluginNotFound | PluginImportFailed | PluginManifestInvalid | PluginDuplicateDependency

/** Some plugins named on the command line could not be loaded; `message` has one line per failure. */
export class PluginListInvalid extends Schema.TaggedError<PluginListInvalid>()("PluginListInvalid", {
  message: Schema.String,
  fix: Schema.optional(Schema.String)
}) {}
