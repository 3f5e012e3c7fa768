import { mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import type { StageInput } from "@refine-af/core"
import { nllObjective, type TokenSequence } from "@refine-af/training"
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { adaptedResource } from "../src/index.ts"
import { runScoped } from "./support/runtime.ts"
import { EOS, smallPolicy } from "./support/policy.ts"

// Digits and spaces: token ids inside the 512-token test vocabulary, so the text round trip holds.
const promptText = "1 2 3 4"
const answer = [41, 300, 7, 120, EOS]
const lora = { rank: 4, alpha: 8, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj", "down_proj"] }

const stageInput = (dir: string): StageInput => ({
  stage: "trainer",
  hash: "sha256:test",
  dir,
  count: 0,
  records: () => Stream.empty,
  readAll: () => Effect.succeed([])
})

const events = { progress: () => Effect.void, metric: () => Effect.void, warn: () => Effect.void, emit: () => Effect.void }

describe("llama/adapted: base PolicyModel + a trainer stage's adapter, as a LanguageModel", () => {
  it("generates what the trained session generates, and not what the base model does", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { policy } = yield* smallPolicy
      const prompt = yield* policy.encode(promptText)
      expect(Math.max(...prompt)).toBeLessThan(512)
      const sft: TokenSequence = { tokens: [...prompt, ...answer], promptLength: prompt.length }
      const session = yield* policy.session({ lora, seed: 1 })
      for (let i = 0; i < 25; i++) yield* session.step(nllObjective, [sft], {}, { lr: 0.02, clipGradNorm: 1 })
      const stageDir = mkdtempSync(nodePath.join(tmpdir(), "adapted-"))
      yield* session.exportAdapter(nodePath.join(stageDir, "adapter"))
      const text = promptText
      const params = { maxNewTokens: 5, temperature: 0 }
      const trained = yield* session.lm.generate([{ prompt: text, params }])
      const adapted = yield* adaptedResource.make({
        name: "rlaf_lm", options: {}, seed: 7, uses: { base: policy }, events, inputs: { adapter: stageInput(stageDir) }
      })
      const viaResource = yield* adapted.generate([{ prompt: text, params }])
      const base = yield* (yield* policy.session({ lora, seed: 9 })).lm.generate([{ prompt: text, params }])
      // One more step, another adapter over the same base: another id (lineage, score caches).
      yield* session.step(nllObjective, [sft], {}, { lr: 0.02, clipGradNorm: 1 })
      const laterDir = mkdtempSync(nodePath.join(tmpdir(), "adapted-later-"))
      yield* session.exportAdapter(nodePath.join(laterDir, "adapter"))
      const later = yield* adaptedResource.make({
        name: "rlaf_lm", options: {}, seed: 7, uses: { base: policy }, events, inputs: { adapter: stageInput(laterDir) }
      })
      return { trained: trained[0]!, viaResource: viaResource[0]!, base: base[0]!, ids: [policy.info.id, adapted.info.id, later.info.id] }
    }))
    const [baseId, adaptedId, laterId] = r.ids
    expect(adaptedId).toMatch(new RegExp(`^${baseId!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\+adapter:adapter#[0-9a-f]{16}$`))
    expect(laterId).toMatch(/\+adapter:adapter#[0-9a-f]{16}$/)
    expect(laterId).not.toBe(adaptedId)
    expect(r.viaResource.text).toBe(r.trained.text)
    expect(r.viaResource.tokenIds).toEqual(r.trained.tokenIds)
    expect(r.viaResource.tokenIds).toEqual(answer)
    expect(r.viaResource.tokenIds).not.toEqual(r.base.tokenIds)
  }, 180_000)

  it("a stage folder without an adapter is a StageError naming the folder and the fix", async () => {
    const error = await runScoped(Effect.gen(function* () {
      const { policy } = yield* smallPolicy
      const empty = mkdtempSync(nodePath.join(tmpdir(), "adapted-empty-"))
      mkdirSync(nodePath.join(empty, "other"))
      return yield* Effect.flip(adaptedResource.make({
        name: "rlaf_lm", options: {}, seed: 7, uses: { base: policy }, events, inputs: { adapter: stageInput(empty) }
      }))
    }))
    expect(error.message).toContain("wrote no PEFT adapter")
    expect(error.fix).toContain("subdir")
  }, 120_000)
})
