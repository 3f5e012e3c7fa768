/**
 * `refine-af plugins` lists nested options (`sampling.temperature`) with their own defaults and
 * descriptions, and shows whole defaults (it used to cut them at 48 characters and hide nested
 * keys); the editor JSON Schema carries the same descriptions.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { discoverPlugins, optionsJsonSchema, recipeJsonSchema } from "@refine-af/core"
import { repoRoot, runCli } from "./cli.ts"

describe("plugins: options", () => {
  it("shows sft/lora's defaults in the default column; a union of names and a struct defaulting to a name shows the name", async () => {
    const result = await runCli(["plugins", "@refine-af/trainer-sft"])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^ +template +"alpaca" \| "chat" \| object +default "alpaca" +Prompt template/m)
    expect(result.stdout).toMatch(/^ +epochs +integer +default 1 +Passes over the training records\.$/m)
    expect(result.stdout).toMatch(/^ +lr +number +default 0\.0002 +Peak learning rate\.$/m)
    expect(result.stdout).toMatch(/^ +checkpoint_every +integer +default 10 /m)
  })

  it("lists nested keys with their defaults and descriptions, and no default is cut", async () => {
    const result = await runCli(["plugins", "@refine-af/generator-self-instruct"])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).not.toMatch(/default [^ ]*\.\.\.( |$)/m)
    expect(result.stdout).toMatch(/^ +sampling +object +default: see its keys +Sampling settings/m)
    expect(result.stdout).toMatch(/^ +sampling\.temperature +number +default 0\.7 +Sampling temperature; 0 is greedy decoding\.$/m)
    expect(result.stdout).toMatch(/^ +filters\.blacklist +array<string> +default \["image",.*"go to"\]/m)
  })

  it("the editor JSON Schema describes options, nested ones included", async () => {
    const { plugins } = await Effect.runPromise(discoverPlugins([repoRoot]))
    const schema = recipeJsonSchema(plugins) as { $defs: Record<string, { properties?: Record<string, any> }> }
    const bootstrap = schema.$defs["component.self-instruct.bootstrap"]!.properties!
    expect(bootstrap["target"].description).toBe("How many new instructions to generate.")
    expect(bootstrap["sampling"].properties.temperature.description).toBe("Sampling temperature; 0 is greedy decoding.")
    expect(schema.$defs["component.llama.hf"]!.properties!["max_context"].description).toMatch(/Context length in tokens/)
  })

  it("every option of every installed plugin, nested keys included, has a description", async () => {
    const { plugins } = await Effect.runPromise(discoverPlugins([repoRoot]))
    const undescribed: Array<string> = []
    let options = 0
    const walk = (node: any, at: string, definitions: Record<string, any>, seen: Set<string>) => {
      if (node === null || typeof node !== "object") return
      if (typeof node.$ref === "string") {
        const name = node.$ref.split("/").pop()
        if (!seen.has(name)) walk(definitions[name], at, definitions, new Set([...seen, name]))
        return
      }
      for (const key of ["anyOf", "oneOf", "allOf"]) for (const member of node[key] ?? []) walk(member, at, definitions, seen)
      if (node.items) walk(node.items, `${at}[]`, definitions, seen)
      for (const [name, property] of Object.entries<any>(node.properties ?? {})) {
        options++
        if (!property.description && !(property.allOf ?? []).some((member: any) => member.description)) undescribed.push(`${at}${name}`)
        walk(property, `${at}${name}.`, definitions, seen)
      }
    }
    for (const plugin of plugins) {
      for (const [name, component] of Object.entries(plugin.manifest.components)) {
        const json = optionsJsonSchema(component.options)
        if (json !== undefined) walk(json.schema, `${plugin.manifest.name}/${name}: `, json.definitions, new Set())
      }
    }
    expect(options).toBeGreaterThan(250)
    expect(undescribed).toEqual([])
  })
})
