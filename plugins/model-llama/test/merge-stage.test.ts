/**
 * `llama/merge`: the merged folder, loaded back through `llama/hf` `path:`,
 * gives the same per-token log-probabilities and entropies (functions of the
 * whole logit row) as the base model running the adapter as LoRA inside the
 * program (PolicyModel session with the adapter) — two independent code paths
 * (W + s·B·A on the host vs x·Wᵀ + s·(x·Aᵀ)·Bᵀ in the program). Plus the
 * summary record, and clear errors for a missing, damaged or foreign adapter.
 */
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import type { JsonRecord, StageContext, StageInput, StageSummary } from "@refine-af/core"
import { openSafetensors } from "@refine-af/models"
import { defaultLoraConfig, PolicyModel, type TokenSequence } from "@refine-af/training"
import { Context, Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { initLoraAdapter, LlamaCheckpoint, llamaResource, mergeStage, seededUniform, writeAdapter, type LoraAdapter, type LlamaCheckpointService } from "../src/index.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"

const events = { progress: () => Effect.void, metric: () => Effect.void, warn: () => Effect.void, emit: () => Effect.void }
const temp = (prefix: string) => mkdtempSync(nodePath.join(tmpdir(), prefix))

const trainerOutput = (dir: string): StageInput => ({
  stage: "sft", hash: "sha256:trainer", dir, count: 0, records: () => Stream.empty, readAll: () => Effect.succeed([])
})

const mergeContext = (base: LlamaCheckpointService, trainerDir: string) => {
  const records: Array<JsonRecord> = []
  const ctx: StageContext<{ subdir?: string }, { base: LlamaCheckpointService }> = {
    name: "merged", options: {}, seed: 3, inputs: { adapter: trainerOutput(trainerDir) }, uses: { base },
    output: { resumedCount: 0, resumed: () => Effect.succeed([]), append: (r) => Effect.sync(() => void records.push(...r)), checkpoint: () => Effect.void },
    dir: temp("merge-stage-"), stateDir: temp("merge-state-"), events
  }
  return { ctx, records }
}

/** An adapter on every projection with non-zero B (a fresh PEFT adapter has B = 0: a no-op merge). */
const knownAdapter = (config: LlamaCheckpointService["config"]): LoraAdapter => {
  const uniform = seededUniform(11)
  const fresh = initLoraAdapter({ r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], useRsLora: false, baseModelNameOrPath: null }, config, uniform)
  return { ...fresh, pairs: new Map([...fresh.pairs].map(([m, p]) => [m, { ...p, b: p.b.map(() => (uniform() - 0.5) * 0.1) }])) }
}

const openSpeaker = Effect.gen(function* () {
  const backend = yield* cpuBackend
  const services = yield* llamaResource.make({ name: "policy", options: { builtin: "speaker", max_context: 64 }, seed: 0, uses: { backend }, events })
  return { backend, policy: Context.get(services, PolicyModel), checkpoint: Context.get(services, LlamaCheckpoint) }
})

const maxAbsDiff = (a: ReadonlyArray<ReadonlyArray<number>>, b: ReadonlyArray<ReadonlyArray<number>>) =>
  Math.max(...a.map((row, i) => Math.max(...row.map((v, j) => Math.abs(v - b[i]![j]!)))))

describe("llama/merge: a trainer stage's adapter merged into the base, as a plain HF folder", () => {
  it("writes a folder that llama/hf loads and that scores like base + adapter (float32 tolerance), with a summary record", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { backend, policy, checkpoint } = yield* openSpeaker
      const trainerDir = temp("merge-trainer-")
      const adapterDir = nodePath.join(trainerDir, "adapter")
      yield* writeAdapter(adapterDir, knownAdapter(checkpoint.config))
      const { ctx, records } = mergeContext(checkpoint, trainerDir)
      const summary = (yield* mergeStage.run(ctx)) as StageSummary
      const out = nodePath.join(ctx.dir, "model")

      const prompts = ["Task: Sort the numbers.\nInput:", "Write a list of instructions:\n1.", "Classification: Yes or No?"]
      const batch: Array<TokenSequence> = []
      for (const text of prompts) batch.push({ tokens: yield* policy.encode(text), promptLength: 1 })
      const want = { entropy: true }
      const withAdapter = yield* (yield* policy.session({ lora: defaultLoraConfig, seed: 1, initialAdapter: adapterDir })).evaluate(batch, want)
      const plain = yield* (yield* policy.session({ lora: defaultLoraConfig, seed: 1 })).evaluate(batch, { ...want, reference: true })
      const mergedServices = yield* llamaResource.make({ name: "merged_lm", options: { path: out, max_context: 64 }, seed: 0, uses: { backend }, events })
      const merged = yield* (yield* Context.get(mergedServices, PolicyModel).session({ lora: defaultLoraConfig, seed: 1 })).evaluate(batch, { ...want, reference: true })

      const header = (file: string) => Effect.scoped(Effect.map(openSafetensors(file), (f) => [...f.header.tensors.values()].reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0)))
      return {
        summary, records, out, checkpoint, tokens: batch.reduce((n, s) => n + s.tokens.length - 1, 0),
        logprobs: { withAdapter: withAdapter.map((h) => h.logprobs), plain: plain.map((h) => h.logprobs), merged: merged.map((h) => h.logprobs) },
        entropy: { withAdapter: withAdapter.map((h) => h.entropy!), merged: merged.map((h) => h.entropy!) },
        baseParameters: yield* header(nodePath.join(checkpoint.folder, "model.safetensors")),
        mergedId: Context.get(mergedServices, LlamaCheckpoint).id
      }
    }))
    expect(r.tokens).toBeGreaterThan(20)
    // The merge changes the model (else the comparison below would prove nothing) …
    expect(maxAbsDiff(r.logprobs.merged, r.logprobs.plain)).toBeGreaterThan(1e-2)
    // … and the merged folder reproduces base + adapter.
    expect(maxAbsDiff(r.logprobs.merged, r.logprobs.withAdapter)).toBeLessThan(2e-4)
    expect(maxAbsDiff(r.entropy.merged, r.entropy.withAdapter)).toBeLessThan(2e-4)
    expect(r.mergedId).not.toBe(r.checkpoint.id)

    const files = readdirSync(r.out).sort()
    for (const file of ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"]) expect(files).toContain(file)
    expect(files.filter((f) => f.endsWith(".safetensors"))).toEqual(["model.safetensors"])
    const bytes = files.reduce((n, f) => n + statSync(nodePath.join(r.out, f)).size, 0)
    expect(r.records).toEqual([{
      path: "model", base: r.checkpoint.id, adapter_stage: "sft", adapter_hash: "sha256:trainer",
      merged_modules: r.checkpoint.config.numLayers * 7, parameters: r.baseParameters, bytes
    }])
    expect(r.summary.metrics).toMatchObject({ parameters: r.baseParameters, bytes })
  }, 240_000)

  it("a missing, damaged or foreign adapter is a StageError naming the problem and the fix", async () => {
    const errors = await runScoped(Effect.gen(function* () {
      const { checkpoint } = yield* openSpeaker
      const run = (trainerDir: string) =>
        Effect.flip(mergeStage.run(mergeContext(checkpoint, trainerDir).ctx)).pipe(Effect.map((error) => {
          if (error._tag !== "StageError") throw new Error(`expected a StageError, got ${error._tag}: ${error.message}`)
          return error
        }))

      const empty = temp("merge-empty-")
      const missing = yield* run(empty)

      const damagedDir = temp("merge-damaged-")
      yield* writeAdapter(nodePath.join(damagedDir, "adapter"), knownAdapter(checkpoint.config))
      writeFileSync(nodePath.join(damagedDir, "adapter", "adapter_model.safetensors"), "not a safetensors file")
      const damaged = yield* run(damagedDir)

      // Trained on a deeper, wider model: layers and shapes the base does not have.
      const foreignDir = temp("merge-foreign-")
      const bigger = { ...checkpoint.config, numLayers: checkpoint.config.numLayers + 2, intermediateSize: checkpoint.config.intermediateSize * 2 }
      yield* writeAdapter(nodePath.join(foreignDir, "adapter"), knownAdapter(bigger))
      const foreign = yield* run(foreignDir)
      return { missing, damaged, foreign }
    }))
    expect(errors.missing.message).toContain("wrote no PEFT adapter")
    expect(errors.missing.fix).toContain("subdir")
    expect(errors.damaged.message).toContain("damaged")
    expect(errors.damaged.fix).toContain(`re-run stage "sft"`)
    expect(errors.foreign.message).toContain("does not fit the base model")
    expect(errors.foreign.message).toContain(`model.layers.${4}.mlp.down_proj`) // a layer the 4-layer base lacks, named
    expect(errors.foreign.fix).toContain("set base:")
  }, 120_000)
})
