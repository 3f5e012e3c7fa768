/**
 * `refine-af plugins` lists nested options (`sampling.temperature`) with their own defaults and
 * descriptions, and shows whole defaults (it used to cut them at 48 characters and hide nested
 * keys); the editor JSON Schema carries the same descriptions.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { discoverPlugins, recipeJsonSchema } from "@refine-af/core"
import { repoRoot, runCli } from "./cli.ts"

describe("plugins: options", () => {
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
})
