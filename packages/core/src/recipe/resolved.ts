/**
 * A recipe after loading, override application, plugin loading and full
 * validation: everything the runner needs, nothing left to check.
 *
 * Recipe file shape (YAML):
 * ```yaml
 * # what it does / what it needs / how to run it
 * name: quickstart
 * description: ...
 * seed: 42
 * plugins:                      # npm packages (installed or workspace); local paths only as ./ ../ or /
 *   - "@refine-af/plugin-demo"
 * resources:                    # services shared by stages (models, scorers, backends)
 *   policy:
 *     _component_: model-llama/hf
 *     path: ./models/tiny
 * stages:                       # the run DAG; a stage's input ports name upstream stages
 *   seeds:
 *     _component_: demo/lines
 *     lines: [a, b]
 *   upper:
 *     _component_: demo/uppercase
 *     records: seeds            # input port `records` ← stage `seeds`
 * ```
 */
import type { JsonRecord } from "../stage/context.ts"
import type { PluginManifest, ResourceComponent, StageComponent } from "../plugin/manifest.ts"

export interface LoadedPlugin {
  /** What the recipe wrote under `plugins:` (package name or explicit path). */
  readonly specifier: string
  /** Resolved package name and version from its package.json. */
  readonly packageName: string
  readonly packageVersion: string
  readonly manifest: PluginManifest
}

/**
 * The version a component's results are cached under: its own `version` when it sets one, else
 * the plugin's. A plugin's version is its package.json's, and `definePlugin`'s too when the two
 * differ, so bumping either one re-runs its stages (a path plugin has only the manifest's).
 */
export const componentVersion = (node: { readonly component: { readonly version?: string | undefined }; readonly plugin: LoadedPlugin }): string =>
  node.component.version ??
    (node.plugin.packageVersion === node.plugin.manifest.version ? node.plugin.packageVersion : `${node.plugin.packageVersion}+manifest.${node.plugin.manifest.version}`)

interface ResolvedNode {
  readonly name: string
  /** `<plugin>/<component>` */
  readonly componentId: string
  readonly plugin: LoadedPlugin
  /** Decoded options (the component's Schema Type). */
  readonly options: unknown
  /** The options as written after overrides, in canonical JSON form: hashed for the cache key. */
  readonly rawOptions: JsonRecord
  /** Resource slot → resource name. */
  readonly uses: Readonly<Record<string, string>>
}

export interface ResolvedResource extends ResolvedNode {
  readonly component: ResourceComponent
  /** Input port → stage whose finished output the resource is built from. */
  readonly inputs: Readonly<Record<string, string>>
}

export interface ResolvedStage extends ResolvedNode {
  readonly component: StageComponent
  /** Input port → upstream stage name. */
  readonly inputs: Readonly<Record<string, string>>
  /** List port (`InputPort.list`) → upstream stage names, in the recipe's order (absent: none). */
  readonly inputLists?: Readonly<Record<string, ReadonlyArray<string>>>
}

export interface ResolvedRecipe {
  /** Absolute path of the recipe file. */
  readonly file: string
  /** Folder relative path options resolve from (default: the recipe file's folder; for a resumed run, the original recipe's). */
  readonly recipeDir?: string
  readonly name: string
  readonly description?: string
  readonly seed: number
  readonly plugins: ReadonlyArray<LoadedPlugin>
  readonly resources: Readonly<Record<string, ResolvedResource>>
  readonly stages: Readonly<Record<string, ResolvedStage>>
  /** Stage names in a topological order (ties broken by order of appearance). */
  readonly order: ReadonlyArray<string>
  /** Resources in dependency order (a resource fed by stages comes after the resources those stages use). */
  readonly resourceOrder: ReadonlyArray<string>
  /** The whole recipe after overrides, as plain data: written to the run directory as `recipe.yaml`. */
  readonly document: JsonRecord
}
