/**
 * A damaged model folder fails `llama/hf` with a message naming the file and a
 * fix that fits what is damaged (not a generic "see the message"): a truncated
 * tokenizer.json, a truncated model.safetensors.
 */
import { cpSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import type { BackendService } from "@refine-af/tensor"
import { Effect } from "effect"
import { resolvePathOptions, type StageError } from "@refine-af/core"
import { describe, expect, it } from "vitest"
import { llamaResource } from "../src/index.ts"
import { LlamaResourceOptions } from "../src/resource.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const events = { info: () => Effect.void, warn: () => Effect.void, progress: () => Effect.void } as never

/** A copy of the tiny qwen2 model with `damage` applied to it. */
const damaged = (damage: (folder: string) => void): string => {
  const folder = nodePath.join(mkdtempSync(nodePath.join(tmpdir(), "llama-damaged-")), "model")
  cpSync(tinyModel("qwen2"), folder, { recursive: true })
  damage(folder)
  return folder
}

const failure = (folder: string) =>
  runScoped(Effect.gen(function* () {
    const backend: BackendService = yield* cpuBackend
    const options = resolvePathOptions(LlamaResourceOptions, { path: folder, max_context: 64 }, nodePath.dirname(folder))
    return yield* Effect.flip(llamaResource.make({ name: "policy", options, seed: 0, uses: { backend } as never, events, recipeDir: nodePath.dirname(folder) }))
  })) as Promise<StageError>

describe("llama/hf: damaged model files get a fix that fits", () => {
  it("a truncated tokenizer.json: names the tokenizer, and says to copy the model's own files again", async () => {
    const folder = damaged((f) => {
      const file = nodePath.join(f, "tokenizer.json")
      writeFileSync(file, readFileSync(file, "utf8").slice(0, 500))
    })
    const error = await failure(folder)
    expect(error.message).toContain(folder)
    expect(error.message).toMatch(/tokenizer/i)
    expect(error.fix).toMatch(/tokenizer\.json .* copy them again/)
  }, 60_000)

  it("a truncated model.safetensors: names the file, and says to download or re-convert it", async () => {
    const folder = damaged((f) => truncateSync(nodePath.join(f, "model.safetensors"), 4096))
    const error = await failure(folder)
    expect(error.message).toContain("model.safetensors")
    expect(error.fix).toMatch(/weight file is damaged, truncated or unreadable: download it again/)
  }, 60_000)
})
