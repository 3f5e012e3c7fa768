/** Component descriptions (for `refine-af plugins`) read from the manifest and options Schema. */
import { Effect, Schema } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { componentCatalog, definePlugin, defineResource, describeComponent, LanguageModel, loadPluginList, RecipePath, withDefault, type CatalogEntry } from "@refine-af/core"
import { fixturesDir } from "./support.ts"

let catalog: ReadonlyMap<string, CatalogEntry>

beforeAll(async () => {
  const { plugins } = await Effect.runPromise(loadPluginList(["./plugins/text"], { searchFrom: [fixturesDir] }))
  catalog = componentCatalog(plugins)
})

describe("describeComponent", () => {
  it("lists options with type, requiredness, default and doc", () => {
    const lines = describeComponent(catalog.get("text/lines")!)
    expect(lines).toMatchObject({ id: "text/lines", kind: "stage", role: "generator", inputs: [], slots: [] })
    expect(lines.options).toEqual([
      { name: "lines", type: "array<string>", required: true, description: "the lines to emit" },
      { name: "repeat", type: "integer", required: false, default: 1, description: "times to emit each line" }
    ])
  })

  it("describes literal unions, optional nested structs, ports and slots", () => {
    const generate = describeComponent(catalog.get("text/generate")!)
    expect(generate.options?.map((option) => [option.name, option.type, option.required])).toEqual([
      ["max_instructions", "integer", true],
      ["mode", "\"input-first\" | \"output-first\"", false],
      ["sampling", "object", false]
    ])
    expect(generate.inputs).toEqual([{ name: "seeds", description: "seed tasks", optional: true, list: false }])
    expect(generate.slots).toEqual([{ name: "model", service: "@refine-af/core/LanguageModel", optional: false }])
  })

  it("says which service a resource provides", () => {
    expect(describeComponent(catalog.get("text/judge")!)).toMatchObject({ kind: "resource", provides: "@refine-af/core/Scorer" })
  })

  it("names a bundled file default instead of the path it has on this machine", () => {
    const component = defineResource({
      description: "Reads a bundled file unless told otherwise.",
      provides: LanguageModel,
      options: Schema.Struct({
        tasks: RecipePath("file").pipe(withDefault("/opt/somewhere/node_modules/p/data/tasks.jsonl")),
        relative: RecipePath("file").pipe(withDefault("data/tasks.jsonl")),
        label: Schema.String.pipe(withDefault("/not/a/path/option"))
      }),
      make: () => Effect.die("not run")
    })
    const manifest = definePlugin({ name: "p", version: "1.0.0", components: { reader: component } })
    const options = describeComponent({ id: "p/reader", plugin: { specifier: "p", packageName: "p", packageVersion: "1.0.0", manifest }, component }).options
    expect(options?.map((option) => [option.name, option.default, option.bundledDefault])).toEqual([
      ["tasks", "/opt/somewhere/node_modules/p/data/tasks.jsonl", "tasks.jsonl"],
      ["relative", "data/tasks.jsonl", undefined],
      ["label", "/not/a/path/option", undefined]
    ])
  })
})
