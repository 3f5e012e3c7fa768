/** loadLlama refuses a model over its memory budget before reading any weight, with a typed error. */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadLlama } from "../src/index.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

describe("memory estimate at load", () => {
  it("over the budget: InsufficientMemoryError naming needed vs available; within it: loads", async () => {
    const folder = tinyModel("llama", { set: { vocab_size: 512 } })
    const r = await runScoped(Effect.gen(function* () {
      const backend = yield* cpuBackend
      const refused = yield* Effect.flip(loadLlama(folder, backend, { memoryBudget: 1000 }))
      const loaded = yield* loadLlama(folder, backend, { memoryBudget: 2 ** 30 })
      return { refused, vocab: loaded.runtime.config.vocabSize }
    }))
    expect(r.refused._tag).toBe("InsufficientMemoryError")
    expect(r.refused.message).toContain("the memory budget is 0.0 GiB")
    expect(r.refused.message).toMatch(/model-llama: .* needs about/)
    expect(r.vocab).toBe(512)
  }, 60_000)
})
