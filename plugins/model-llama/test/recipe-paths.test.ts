/** `path` (like `lora` and `builtin.cacheDir`) is relative to the recipe's folder, not to the cwd: `path` and `lora` are `RecipePath`s the core resolves. */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import type { BackendService } from "@refine-af/tensor"
import { Context, Effect } from "effect"
import { LanguageModel, resolvePathOptions } from "@refine-af/core"
import { describe, expect, it } from "vitest"
import { llamaResource } from "../src/index.ts"
import { LlamaResourceOptions } from "../src/resource.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const events = { info: () => Effect.void, warn: () => Effect.void, progress: () => Effect.void } as never
const slots = (backend: BackendService) => ({ backend }) as never

describe("llama/hf relative model paths", () => {
  it("resolve from the recipe folder (the core's RecipePath rule)", async () => {
    const folder = tinyModel("qwen2")
    const relative = nodePath.basename(folder)
    const elsewhere = mkdtempSync(nodePath.join(tmpdir(), "recipe-elsewhere-"))
    const result = await runScoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      const make = (recipeDir: string) =>
        llamaResource.make({ name: "policy", options: resolvePathOptions(LlamaResourceOptions, { path: relative, max_context: 64 }, recipeDir), seed: 0, uses: slots(backend), events, recipeDir })
      const loaded = yield* make(nodePath.dirname(folder))
      const missing = yield* Effect.flip(make(elsewhere))
      return { modelId: Context.get(loaded, LanguageModel).info.id, missing: missing.message }
    }))
    expect(result.modelId.length).toBeGreaterThan(0)
    expect(result.missing).toContain(nodePath.join(elsewhere, relative))
  })
})
