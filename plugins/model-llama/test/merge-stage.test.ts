/**
 * `llama/merge`: the merged folder, loaded back through `llama/hf` `path:`,
 * gives the same per-token log-probabilities and entropies (functions of the
 * whole logit row) as the base model running the adapter as LoRA inside the
 * program (a PolicyModel session with the adapter) — two independent code
 * paths (W + s·B·A on the host vs x·Wᵀ + s·(x·Aᵀ)·Bᵀ in the program). The base
 * comes from the slot `base` (a llama/hf resource) or the `builtin` / `path`
 * options; the summary record; clear errors for a missing, damaged or foreign
 * adapter and for a base given twice.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { openSafetensors } from "@refine-af/models"
import { memoryInput, memoryStageContext, memoryWriter, runStageExit } from "@refine-af/testing"
import { defaultLoraConfig, PolicyModel, type TokenSequence } from "@refine-af/training"
import { Cause, Context, Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { initLoraAdapter, LlamaCheckpoint, llamaResource, MergeStageOptions, mergeStage, seededUniform, writeAdapter, type LlamaCheckpointService, type LoraAdapter } from "../src/index.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"

const events = { progress: () => Effect.void, metric: () => Effect.void, warn: () => Effect.void, emit: () => Effect.void }
const temp = (prefix: string) => mkdtempSync(nodePath.join(tmpdir(), prefix))

/** Runs the stage on the adapter in `<trainerDir>/adapter` with the given base slot and options. */
const runMerge = async (trainerDir: string, base: LlamaCheckpointService | undefined, options: unknown = {}) => {
  const output = memoryWriter()
  const { ctx } = memoryStageContext({
    name: "merged",
    options: Schema.decodeUnknownSync(MergeStageOptions)(options),
    uses: { base },
    inputs: { adapter: { ...memoryInput("sft", [], trainerDir), hash: "sha256:trainer" } },
    output
  })
  const exit = await runStageExit(mergeStage, ctx)
  return { exit, out: nodePath.join(ctx.dir, "model"), records: output.committed }
}
const failureOf = (exit: Exit.Exit<unknown, { readonly _tag: string }>) => {
  if (!Exit.isFailure(exit)) throw new Error("expected the stage to fail")
  const error = Cause.squash(exit.cause) as { _tag?: string; message: string; fix?: string }
  expect(error._tag).toBe("StageError")
  return error
}

/** An adapter on every projection with non-zero B (a fresh PEFT adapter has B = 0: a no-op merge). */
const knownAdapter = (config: LlamaCheckpointService["config"]): LoraAdapter => {
  const uniform = seededUniform(11)
  const fresh = initLoraAdapter({ r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], useRsLora: false, baseModelNameOrPath: null }, config, uniform)
  return { ...fresh, pairs: new Map([...fresh.pairs].map(([m, p]) => [m, { ...p, b: p.b.map(() => (uniform() - 0.5) * 0.1) }])) }
}
const trainerWith = (adapter: LoraAdapter) => Effect.gen(function* () {
  const dir = temp("merge-trainer-")
  yield* writeAdapter(nodePath.join(dir, "adapter"), adapter)
  return dir
})

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
      const trainerDir = yield* trainerWith(knownAdapter(checkpoint.config))
      const { exit, out, records } = yield* Effect.promise(() => runMerge(trainerDir, checkpoint))
      if (Exit.isFailure(exit)) throw new Error(Cause.pretty(exit.cause))

      const prompts = ["Task: Sort the numbers.\nInput:", "Write a list of instructions:\n1.", "Classification: Yes or No?"]
      const batch: Array<TokenSequence> = []
      for (const text of prompts) batch.push({ tokens: yield* policy.encode(text), promptLength: 1 })
      const want = { entropy: true }
      const adapterDir = nodePath.join(trainerDir, "adapter")
      const withAdapter = yield* (yield* policy.session({ lora: defaultLoraConfig, seed: 1, initialAdapter: adapterDir })).evaluate(batch, want)
      const plain = yield* (yield* policy.session({ lora: defaultLoraConfig, seed: 1 })).evaluate(batch, { ...want, reference: true })
      const mergedServices = yield* llamaResource.make({ name: "merged_lm", options: { path: out, max_context: 64 }, seed: 0, uses: { backend }, events })
      const merged = yield* (yield* Context.get(mergedServices, PolicyModel).session({ lora: defaultLoraConfig, seed: 1 })).evaluate(batch, { ...want, reference: true })

      const header = (file: string) => Effect.scoped(Effect.map(openSafetensors(file), (f) => [...f.header.tensors.values()].reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0)))
      return {
        exit, records, out, checkpoint, tokens: batch.reduce((n, s) => n + s.tokens.length - 1, 0),
        logprobs: { withAdapter: withAdapter.map((h) => h.logprobs), plain: plain.map((h) => h.logprobs), merged: merged.map((h) => h.logprobs) },
        entropy: { withAdapter: withAdapter.map((h) => h.entropy!), merged: merged.map((h) => h.entropy!) },
        baseParameters: yield* header(nodePath.join(checkpoint.folder, "model.safetensors")),
        mergedId: Context.get(mergedServices, LlamaCheckpoint).id
      }
    }))
    expect(r.tokens).toBeGreaterThan(20)
    // The merge changes the model (else the comparison below would prove nothing; measured ≈ 3.0) …
    expect(maxAbsDiff(r.logprobs.merged, r.logprobs.plain)).toBeGreaterThan(1e-2)
    // … and the merged folder reproduces base + adapter (measured ≈ 5e-6; a 1 % scale error gives 3e-2).
    expect(maxAbsDiff(r.logprobs.merged, r.logprobs.withAdapter)).toBeLessThan(2e-4)
    expect(maxAbsDiff(r.entropy.merged, r.entropy.withAdapter)).toBeLessThan(2e-4)
    expect(r.mergedId).not.toBe(r.checkpoint.id)

    const files = readdirSync(r.out).sort()
    for (const file of ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"]) expect(files).toContain(file)
    expect(files.filter((f) => f.endsWith(".safetensors"))).toEqual(["model.safetensors"])
    expect(JSON.parse(readFileSync(nodePath.join(r.out, "config.json"), "utf8")).torch_dtype).toBe("float32")
    const bytes = files.reduce((n, f) => n + statSync(nodePath.join(r.out, f)).size, 0)
    expect(r.records).toEqual([{
      folder: "model", base: r.checkpoint.id, adapterStage: "sft", adapterHash: "sha256:trainer",
      mergedModules: r.checkpoint.config.numLayers * 7, dtype: "float32", shards: 1, parameters: r.baseParameters, bytes
    }])
    expect(Exit.isSuccess(r.exit) && r.exit.value ? r.exit.value.metrics : undefined).toMatchObject({ parameters: r.baseParameters, bytes })
  }, 240_000)

  it("takes the base as builtin: (no resource) and writes the same folder as with the slot", async () => {
    const { viaSlot, viaOption } = await runScoped(Effect.gen(function* () {
      const { checkpoint } = yield* openSpeaker
      const trainerDir = yield* trainerWith(knownAdapter(checkpoint.config))
      const viaSlot = yield* Effect.promise(() => runMerge(trainerDir, checkpoint))
      const viaOption = yield* Effect.promise(() => runMerge(trainerDir, undefined, { builtin: "speaker" }))
      return { viaSlot, viaOption }
    }))
    expect(Exit.isSuccess(viaOption.exit), Exit.isFailure(viaOption.exit) ? Cause.pretty(viaOption.exit.cause) : "").toBe(true)
    expect(viaOption.records).toEqual(viaSlot.records)
    for (const file of readdirSync(viaSlot.out)) {
      expect(existsSync(nodePath.join(viaOption.out, file)), file).toBe(true)
      expect(readFileSync(nodePath.join(viaOption.out, file)).equals(readFileSync(nodePath.join(viaSlot.out, file))), file).toBe(true)
    }
  }, 120_000)

  it("a base held at int4 is merged from its folder's float32 weights (the same file as a float32 base)", async () => {
    const { float32, int4 } = await runScoped(Effect.gen(function* () {
      const { checkpoint, backend } = yield* openSpeaker
      const quantised = yield* llamaResource.make({ name: "policy4", options: { builtin: "speaker", max_context: 64, precision: "int4" }, seed: 0, uses: { backend }, events })
      const base4 = Context.get(quantised, LlamaCheckpoint)
      expect(base4.quantised).toBe(true)
      expect(base4.weights["model.layers.0.mlp.up_proj.weight"]).toBeUndefined()
      const trainerDir = yield* trainerWith(knownAdapter(checkpoint.config))
      return { float32: yield* Effect.promise(() => runMerge(trainerDir, checkpoint)), int4: yield* Effect.promise(() => runMerge(trainerDir, base4)) }
    }))
    expect(Exit.isSuccess(int4.exit), Exit.isFailure(int4.exit) ? Cause.pretty(int4.exit.cause) : "").toBe(true)
    expect(readFileSync(nodePath.join(int4.out, "model.safetensors")).equals(readFileSync(nodePath.join(float32.out, "model.safetensors")))).toBe(true)
  }, 120_000)

  it("a missing, damaged or foreign adapter, or a base given twice, is a StageError naming the problem and the fix", async () => {
    const errors = await runScoped(Effect.gen(function* () {
      const { checkpoint } = yield* openSpeaker
      const run = (trainerDir: string, options?: unknown) => Effect.promise(() => runMerge(trainerDir, checkpoint, options)).pipe(Effect.map(({ exit }) => failureOf(exit)))

      const empty = temp("merge-empty-")
      const missing = yield* run(empty)

      const damagedDir = yield* trainerWith(knownAdapter(checkpoint.config))
      writeFileSync(nodePath.join(damagedDir, "adapter", "adapter_model.safetensors"), "not a safetensors file")
      const damaged = yield* run(damagedDir)

      // Trained on a deeper, wider model: layers and shapes the 4-layer base does not have.
      const foreign = yield* run(yield* trainerWith(knownAdapter({ ...checkpoint.config, numLayers: checkpoint.config.numLayers + 2, intermediateSize: checkpoint.config.intermediateSize * 2 })))

      const twice = yield* run(yield* trainerWith(knownAdapter(checkpoint.config)), { builtin: "speaker" })
      return { missing, damaged, foreign, twice, numLayers: checkpoint.config.numLayers }
    }))
    expect(errors.missing.message).toContain(`stage "sft" wrote no PEFT adapter at `)
    expect(errors.missing.fix).toContain("subdir")
    expect(errors.damaged.message).toContain("damaged")
    expect(errors.damaged.fix).toContain(`re-run stage "sft"`)
    expect(errors.foreign.message).toContain("does not fit the base model")
    expect(errors.foreign.message).toContain(`model.layers.${errors.numLayers}.mlp.down_proj`) // a layer the base lacks, named
    expect(errors.foreign.fix).toContain("base: its llama/hf resource")
    expect(errors.twice.message).toContain("given 2 times (base, builtin)")
    expect(errors.twice.fix).toContain("exactly one")
  }, 120_000)
})
