/**
 * `max_context` above the model's own context (max_position_embeddings) is cut to it, and the
 * resource says so: before, the larger value was taken silently and a later "exceeds the model's
 * context" error told the user to raise max_context, which could not help.
 */
import * as nodePath from "node:path"
import { Context, Effect } from "effect"
import { LanguageModel, resolvePathOptions } from "@refine-af/core"
import type { BackendService } from "@refine-af/tensor"
import { describe, expect, it } from "vitest"
import { llamaResource } from "../src/index.ts"
import { LlamaResourceOptions } from "../src/resource.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const contextWith = (maxContext: number) => {
  const warnings: Array<string> = []
  const events = { info: () => Effect.void, warn: (message: string) => Effect.sync(() => void warnings.push(message)), progress: () => Effect.void } as never
  const folder = tinyModel("qwen2")
  return runScoped(Effect.gen(function* () {
    const backend: BackendService = yield* cpuBackend
    const options = resolvePathOptions(LlamaResourceOptions, { path: folder, max_context: maxContext }, nodePath.dirname(folder))
    const services = yield* llamaResource.make({ name: "policy", options, seed: 0, uses: { backend } as never, events, recipeDir: nodePath.dirname(folder) })
    return { contextLength: Context.get(services as Context.Context<LanguageModel>, LanguageModel).info.contextLength, warnings }
  }))
}

describe("llama/hf max_context", () => {
  it("above the model's own context: cut to it, with a warning naming both", async () => {
    const above = await contextWith(100_000)
    const own = above.contextLength
    expect(own).toBeLessThan(100_000)
    expect(above.warnings).toEqual([expect.stringContaining(`max_context 100000 is above the model's own context of ${own} tokens`)])
    const within = await contextWith(own)
    expect(within).toEqual({ contextLength: own, warnings: [] })
  }, 60_000)
})
