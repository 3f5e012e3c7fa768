/**
 * The files of a new plugin package (`refine-af plugins new <name>`): a manifest with one
 * stage, its test on `@refine-af/testing`, a one-stage recipe, a README. `effect` and
 * `@refine-af/core` are peer dependencies, so the plugin shares refine-af's copies.
 */

/** What the scaffold is made from. */
export interface PluginScaffold {
  /** npm package name, e.g. `refine-af-plugin-shout` or `@me/refine-af-shout`. */
  readonly packageName: string
  /** Manifest name used in recipes (`shout/echo`). */
  readonly pluginName: string
  /** Versions to depend on. */
  readonly versions: {
    readonly core: string
    readonly testing: string
    readonly cli: string
    readonly effect: string
    readonly vitest: string
    readonly typescript: string
    readonly typesNode: string
  }
}

/** The manifest name for a package name: scope and a `refine-af-plugin-` / `refine-af-` prefix dropped. */
export const pluginNameOf = (packageName: string): string =>
  packageName.replace(/^@[^/]+\//, "").replace(/^refine-af-(plugin-)?/, "").replace(/[^a-z0-9-]/g, "-") || "plugin"

const packageJson = ({ packageName, versions }: PluginScaffold) => JSON.stringify({
  name: packageName,
  version: "0.1.0",
  description: "A refine-af plugin",
  type: "module",
  license: "Apache-2.0",
  "refine-af": { plugin: true },
  keywords: ["refine-af-plugin"],
  exports: { ".": "./src/index.ts" },
  files: ["src", "README.md", "recipe.yaml"],
  scripts: { test: "vitest run", typecheck: "tsc -p tsconfig.json" },
  peerDependencies: { "@refine-af/core": `^${versions.core}`, effect: `^${versions.effect}` },
  // The CLI too, so \`npx refine-af run recipe.yaml\` here runs with the same effect and core as the plugin.
  devDependencies: {
    "@refine-af/cli": `^${versions.cli}`,
    "@refine-af/core": `^${versions.core}`,
    "@refine-af/testing": `^${versions.testing}`,
    "@types/node": `^${versions.typesNode}`,
    effect: `^${versions.effect}`,
    typescript: `^${versions.typescript}`,
    vitest: `^${versions.vitest}`
  }
}, null, 2) + "\n"

const indexTs = ({ pluginName }: PluginScaffold) => `/**
 * The \`${pluginName}\` plugin: one stage, \`${pluginName}/echo\`, writing \`count\` records.
 * Recipes list this package under \`plugins:\` and use \`_component_: ${pluginName}/echo\`.
 */
import { defineStage, definePlugin, type JsonRecord } from "@refine-af/core"
import { Effect, Schema } from "effect"

/** Options of \`${pluginName}/echo\`: every option has a description (shown by \`refine-af plugins\` and in editors). */
export const EchoOptions = Schema.Struct({
  text: Schema.String.annotate({ description: "The text every record carries." }),
  count: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "How many records to write (default 3)." }))
})

/** Writes \`count\` records \`{ index, text }\`; a resumed run continues after the durable ones. */
export const echo = defineStage({
  role: "generator",
  description: "Writes \`count\` records { index, text }.",
  deterministic: true,
  options: EchoOptions,
  run: (ctx) =>
    Effect.gen(function*() {
      const count = ctx.options.count ?? 3
      const records: Array<JsonRecord> = []
      for (let index = ctx.output.resumedCount; index < count; index++) records.push({ index, text: ctx.options.text })
      yield* ctx.output.append(records)
      yield* ctx.output.checkpoint() // durable now: a resumed run starts after these
      yield* ctx.events.progress(count, count)
      return { metrics: { records: count } }
    })
})

export default definePlugin({
  name: "${pluginName}",
  version: "0.1.0",
  description: "A refine-af plugin",
  components: { echo }
})
`

const testTs = ({ pluginName }: PluginScaffold) => `import { memoryStageContext, memoryWriter, runStage } from "@refine-af/testing"
import { describe, expect, it } from "vitest"
import plugin, { echo } from "../src/index.ts"

describe("${pluginName}/echo", () => {
  it("is the plugin's echo component", () => {
    expect(plugin.name).toBe("${pluginName}")
    expect(plugin.components["echo"]).toBe(echo)
  })

  it("writes count records", async () => {
    const { ctx, output } = memoryStageContext({ options: { text: "hi", count: 2 }, uses: {} })
    await runStage(echo, ctx)
    expect(output.committed).toEqual([{ index: 0, text: "hi" }, { index: 1, text: "hi" }])
  })

  it("continues after the records an interrupted attempt made durable", async () => {
    const { ctx, output } = memoryStageContext({ options: { text: "hi", count: 3 }, uses: {}, output: memoryWriter([{ index: 0, text: "hi" }]) })
    await runStage(echo, ctx)
    expect(output.committed.map((record) => record["index"])).toEqual([0, 1, 2])
  })
})
`

const recipeYaml = ({ packageName, pluginName }: PluginScaffold) => `# ${pluginName} — the plugin's echo stage in a one-stage recipe.
# Run it from this folder:   npx refine-af run recipe.yaml
# (from a project that installed the package, list "${packageName}" under plugins instead of "./")
name: ${pluginName}-echo
seed: 1
plugins:
  - "./"
stages:
  hello:
    _component_: ${pluginName}/echo
    text: hello
    count: 3
`

const readme = ({ packageName, pluginName }: PluginScaffold) => `# ${packageName}

A refine-af plugin (manifest name \`${pluginName}\`), made by \`refine-af plugins new\`. See
refine-af's \`docs/plugin-authoring.md\` for the concepts.

\`\`\`sh
npm install            # refine-af's CLI, core and testing helpers, effect, vitest, typescript
npm test               # the stage's unit tests (in memory, no run folder)
npm run typecheck
npx refine-af run recipe.yaml
\`\`\`

refine-af is not on a registry yet: outside a refine-af checkout's workspaces, install its
packages from tarballs built in the checkout instead of \`npm install\`
(docs/plugin-authoring.md, "Start from the scaffold").

\`effect\` and \`@refine-af/core\` are **peer dependencies**: the plugin must use the copies the
refine-af CLI loads (a second copy is refused at load with the fix: \`npm dedupe\`).
`

const tsconfig = JSON.stringify({
  compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true, types: ["node"] },
  include: ["src", "test"]
}, null, 2) + "\n"

/** Every file, by path relative to the package folder. */
export const pluginFiles = (scaffold: PluginScaffold): Readonly<Record<string, string>> => ({
  "package.json": packageJson(scaffold),
  "src/index.ts": indexTs(scaffold),
  "test/echo.test.ts": testTs(scaffold),
  "recipe.yaml": recipeYaml(scaffold),
  "README.md": readme(scaffold),
  "tsconfig.json": tsconfig
})
