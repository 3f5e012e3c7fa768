/**
 * `refine-af plugins [--recipe r | packages...]`: what the plugins offer —
 * with no arguments, every installed plugin (see `discoverPlugins`) —
 * each component's kind/role, description, options (type, default, doc),
 * input ports and resource slots — so a recipe can be written without reading
 * plugin source.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import {
  componentCatalog,
  describeComponent,
  discoverPlugins,
  loadPluginsFrom,
  pluginMarker,
  type ComponentDescription,
  type LoadedPlugin,
  type OptionDescription,
  type PluginList
} from "@refine-af/core"
import { pluginTarballs, scaffoldPlugin, ScaffoldInvalid } from "../scaffold/new-plugin.ts"


const table = (rows: ReadonlyArray<ReadonlyArray<string>>, indent: string): Array<string> => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]!.length))) ?? []
  return rows.map((row) => indent + row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column]!)).join("  ").trimEnd())
}

/**
 * One row per option and, under a struct-valued option, one per nested key (`sampling.temperature`),
 * each with its whole default: a struct's default is shown key by key in its rows, never cut (a
 * union of a struct and plain values whose default is a plain value shows that value).
 */
const optionRows = (options: ReadonlyArray<OptionDescription>, prefix = ""): Array<Array<string>> =>
  options.flatMap((option) => [
    [
      prefix + option.name,
      option.type,
      option.required
        ? "required"
        : option.default === undefined
        ? "optional"
        : option.bundledDefault !== undefined
        ? `default: bundled ${option.bundledDefault}`
        : option.children !== undefined && typeof option.default === "object" && option.default !== null && !Array.isArray(option.default)
        ? "default: see its keys"
        : `default ${JSON.stringify(option.default)}`,
      option.description ?? ""
    ],
    ...(option.children === undefined ? [] : optionRows(option.children, `${prefix}${option.name}.`))
  ])

/** Renders one component as indented text. */
export const formatComponent = (component: ComponentDescription): Array<string> => {
  const kind = component.kind === "stage" ? `stage · ${component.role}` : `resource · provides ${component.provides}`
  const lines = [`  ${component.id}  (${kind})`, `    ${component.description}`]
  if (component.compares !== undefined) {
    lines.push(`    compares: ${component.compares.evaluations.join(", ")} stages (refine-af compare imports other runs' with ${component.compares.importer})`)
  }
  if (component.options === undefined) lines.push("    options: see `refine-af schema` (not a plain struct)")
  else if (component.options.length === 0) lines.push("    options: none")
  else lines.push("    options:", ...table(optionRows(component.options), "      "))
  if (component.inputs.length > 0) {
    lines.push("    input ports (stage names):", ...table(component.inputs.map((port) => [port.name, `${port.optional ? "optional" : "required"}${port.list ? ", list" : ""}`, port.description]), "      "))
  }
  if (component.slots.length > 0) {
    lines.push("    resource slots (resource names):", ...table(component.slots.map((slot) => [slot.name, slot.optional ? "optional" : "required", slot.service]), "      "))
  }
  return lines
}

/** Renders every plugin and its components. */
export const formatPluginList = (plugins: ReadonlyArray<LoadedPlugin>): string => {
  const catalog = [...componentCatalog(plugins).values()]
  return plugins.flatMap((plugin) => {
    const header = `${plugin.manifest.name} ${plugin.manifest.version}  (${plugin.packageName}@${plugin.packageVersion} from ${plugin.specifier})`
    const description = plugin.manifest.description === undefined ? [] : [`  ${plugin.manifest.description}`]
    const components = catalog.filter((entry) => entry.plugin === plugin).map(describeComponent).flatMap((component) => ["", ...formatComponent(component)])
    return [header, ...description, ...components, ""]
  }).join("\n").trimEnd()
}

/** What `refine-af plugins` prints with no arguments: the installed plugins, then one warning line per package that failed to load. */
export const formatDiscovered = (found: PluginList): { readonly stdout: string; readonly stderr: string } => ({
  stdout: found.plugins.length > 0
    ? formatPluginList(found.plugins)
    : found.failures.length > 0
    ? "no installed plugin could be loaded"
    : `no refine-af plugins installed here: install a plugin package (refine-af's own are tarballs built by tools/pack until they are on a registry), or mark a package with "${pluginMarker.field}": { "plugin": true } or the keyword "${pluginMarker.keyword}"`,
  stderr: found.failures.map((failure) => `warning: plugin "${failure.specifier}" could not be loaded: ${failure.message}${failure.fix === undefined ? "" : ` (fix: ${failure.fix})`}`).join("\n")
})

/** `refine-af plugins [--recipe r | packages...]`. */
export const pluginsCommand = Command.make(
  "plugins",
  {
    recipe: Flag.String("recipe").pipe(Flag.withDescription("List the plugins this recipe uses"), Flag.optional),
    packages: Argument.String("packages").pipe(
      Argument.withDescription("Plugin packages (or ./ paths) to list"),
      Argument.variadic()
    )
  },
  Effect.fnUntraced(function*({ recipe, packages }) {
    if (Option.isNone(recipe) && packages.length === 0) {
      const { stdout, stderr } = formatDiscovered(yield* discoverPlugins([process.cwd()]))
      if (stderr !== "") yield* Console.error(stderr)
      return yield* Console.log(stdout)
    }
    const plugins = yield* loadPluginsFrom(Option.isSome(recipe) ? { recipe: recipe.value } : { specifiers: packages })
    yield* Console.log(formatPluginList(plugins))
  })
).pipe(
  Command.withDescription("List plugins and their components: options (type, default, doc), input ports, resource slots; with no arguments, every installed plugin"),
  Command.withExamples([
    { command: "refine-af plugins", description: "Every installed refine-af plugin (workspace and node_modules)" },
    { command: "refine-af plugins --recipe recipes/quickstart.yaml", description: "Components available to the quickstart recipe" },
    { command: "refine-af plugins @refine-af/plugin-demo", description: "Components of one plugin package" },
    { command: "refine-af plugins new refine-af-plugin-shout --dir ../shout", description: "Scaffold a new plugin package" }
  ])
)

/** `refine-af plugins new <name> [--dir D]`: a new plugin package, ready to test and publish. */
export const pluginsNewCommand = Command.make(
  "new",
  {
    name: Argument.String("name").pipe(Argument.withDescription("npm package name of the plugin, e.g. refine-af-plugin-shout or @me/refine-af-shout")),
    dir: Flag.String("dir").pipe(Flag.withDescription("Folder to create (default: ./<name without scope>); must be absent or empty"), Flag.optional)
  },
  Effect.fnUntraced(function*({ name, dir }) {
    const made = scaffoldPlugin(name, Option.getOrUndefined(dir))
    if (made instanceof ScaffoldInvalid) return yield* made
    yield* Console.log([
      `wrote ${made.dir}: ${made.files.join(", ")}`,
      "next, in a refine-af checkout's workspaces (e.g. --dir plugins/<name>):",
      `  cd ${made.dir} && npm install && npm test && npx refine-af run recipe.yaml`,
      "elsewhere (refine-af is not on a registry yet), with the tarballs `npx tsx tools/pack/pack.ts --out <tarballs>` builds in the checkout:",
      `  cd ${made.dir} && ONNXRUNTIME_NODE_INSTALL=skip npm install -D <tarballs>/refine-af-{${pluginTarballs.join(",")}}-*.tgz && npm test && npx refine-af run recipe.yaml`,
      "docs: docs/plugin-authoring.md in the refine-af repository"
    ].join("\n"))
  })
).pipe(Command.withDescription("Scaffold a plugin package (manifest, one stage, its test, a recipe), in a refine-af checkout's workspaces or any other folder"))
