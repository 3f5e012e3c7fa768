/**
 * The memory estimate before loading: a model whose float32 weights × the
 * runtime factor exceed the memory there is is refused with needed vs
 * available and the precision that would fit — at validate against this
 * machine's memory (the folder checks behind exit 2), at load against a
 * budget (the memory available by default) as a typed error.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir, totalmem } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { availableMemory, checkFolderFitsMachine, checkLlamaFolder, ensureFolderFits, folderWeightBytes, llamaWeightBytes, memoryShortfall, NARROWEST_BYTES_PER_WEIGHT, parseLlamaConfig, RUNTIME_FACTOR } from "../src/index.ts"

const GiB = 2 ** 30

/** A folder with config.json and empty stand-ins for the other files (nothing is read from them here). */
const folderWith = (config: Record<string, unknown>) => {
  const dir = mkdtempSync(nodePath.join(tmpdir(), "memory-check-"))
  mkdirSync(dir, { recursive: true })
  writeFileSync(nodePath.join(dir, "config.json"), JSON.stringify(config))
  // Whole but empty files: a safetensors file with no tensors, a JSON tokenizer (validate reads both).
  writeFileSync(nodePath.join(dir, "model.safetensors"), Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]))
  writeFileSync(nodePath.join(dir, "tokenizer.json"), "{}")
  return dir
}

// A 7B-like layer (hidden 4096, intermediate 11008) is 50,593,792 weights; a Llama model can be held
// at int4 (NARROWEST_BYTES_PER_WEIGHT each), so validate refuses only what int4 cannot hold: enough
// layers for 90% of this machine's memory at int4 (under parseLlamaConfig's own 1× bound, over 1.3×).
const layerWeights = 4 * 4096 * 4096 + 3 * 4096 * 11008
const layersFor = (bytes: number, bytesPerWeight: number) => Math.floor((bytes / bytesPerWeight - 2 * 32000 * 4096) / layerWeights)
const llamaOf = (layers: number) => ({ model_type: "llama", hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: layers, num_attention_heads: 32, vocab_size: 32000 })
const bigLlama = llamaOf(layersFor(0.9 * totalmem(), NARROWEST_BYTES_PER_WEIGHT))

describe("memory estimate before loading", () => {
  it("says needed vs available and the widest precision that fits", () => {
    const weightBytes = 28 * GiB
    const problem = memoryShortfall({ what: "model-llama: /m", weightBytes, availableBytes: 20 * GiB, source: "available system memory" })
    expect(problem?.neededBytes).toBeCloseTo(weightBytes * RUNTIME_FACTOR, 0)
    expect(problem?.message).toContain("needs about 36.4 GiB")
    expect(problem?.message).toContain("available system memory is 20.0 GiB")
    expect(problem?.message).toContain("fit with float16 weights")
    // Block-wise 8-bit with its scales: 7 Gi weights × 1.125 bytes × 1.3 = 10.2 GiB.
    expect(memoryShortfall({ what: "m", weightBytes, availableBytes: 11 * GiB, source: "s" })?.message).toContain("fit with 8-bit weights")
    expect(memoryShortfall({ what: "m", weightBytes, availableBytes: 10 * GiB, source: "s" })?.message).toContain("fit with 4-bit weights")
    expect(memoryShortfall({ what: "m", weightBytes, availableBytes: 1 * GiB, source: "s" })?.message).toContain("does not fit even with 4-bit weights")
    expect(memoryShortfall({ what: "m", weightBytes, availableBytes: 40 * GiB, source: "s" })).toBeUndefined()
  })

  it("validate: a Llama config of 90% of this machine's memory at int4 is refused with the estimate", () => {
    const folder = folderWith(bigLlama)
    expect(folderWeightBytes(folder)! * NARROWEST_BYTES_PER_WEIGHT / 4).toBeGreaterThan(0.85 * totalmem())
    const found = checkLlamaFolder(folder)
    expect(found?.problem).toContain("this machine's memory")
    expect(found?.problem).toMatch(/needs about [\d.]+ GiB/)
    expect(found?.problem).toContain("does not fit even with 4-bit weights")
  })

  it("validate: a Llama config too big at float32 but not at int4 passes (the load judges the chosen precision)", async () => {
    // Twice this machine's memory at float32 (a 7B model on a 24 GiB machine is 1.1×) is still a third of it at int4.
    const folder = folderWith(llamaOf(layersFor(2 * totalmem(), 4)))
    expect(folderWeightBytes(folder)).toBeGreaterThan(1.9 * totalmem())
    expect(checkLlamaFolder(folder)).toBeUndefined()
    const atFloat32 = await Effect.runPromise(Effect.flip(ensureFolderFits(folder, "model-llama", totalmem())))
    expect(atFloat32._tag).toBe("InsufficientMemoryError")
    await Effect.runPromise(ensureFolderFits(folder, "model-llama", totalmem(), "int4"))
  })

  it("validate: GPT-NeoX (reward-model/hf) and T5 (unieval/dialog) configs are estimated and refused alike", () => {
    const neox = folderWith({ model_type: "gpt_neox", hidden_size: 8192, intermediate_size: 32768, num_hidden_layers: Math.ceil(totalmem() / (12 * 8192 * 8192 * 4)), num_attention_heads: 64, vocab_size: 50000 })
    expect(checkFolderFitsMachine(neox, "reward-model/hf")?.problem).toContain("reward-model/hf")
    const t5 = folderWith({ model_type: "t5", d_model: 4096, d_kv: 64, d_ff: 16384, num_layers: Math.ceil(totalmem() / (3 * 4096 * 16384 * 4)), num_heads: 64, vocab_size: 32128 })
    expect(checkFolderFitsMachine(t5, "unieval/dialog")?.problem).toContain("unieval/dialog")
    const small = folderWith({ ...bigLlama, num_hidden_layers: 1, hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, vocab_size: 100 })
    expect(checkFolderFitsMachine(small, "model")).toBeUndefined()
  })

  it("load: over the budget is a typed InsufficientMemoryError; the default budget is the memory available now", async () => {
    const folder = folderWith({ ...bigLlama, num_hidden_layers: 2 })
    const error = await Effect.runPromise(Effect.flip(ensureFolderFits(folder, "model-llama", 1 * GiB)))
    expect(error._tag).toBe("InsufficientMemoryError")
    expect(error.availableBytes).toBe(GiB)
    expect(error.neededBytes).toBeGreaterThan(GiB)
    expect(error.message).toContain("the memory budget is 1.0 GiB")
    expect(availableMemory().bytes).toBeGreaterThan(0)
    await Effect.runPromise(ensureFolderFits(folder, "model-llama", 100 * GiB))
  })

  it("counts a Llama model's weights as they are held: int projections with their scales, the rest float32", () => {
    // hidden 64, intermediate 128, 4 heads of 16, 2 layers, vocabulary 100, untied. At int4 in blocks of 32 a
    // row of n values is n/2 bytes of codes and n/32 float32 scales: q, k, v, o (64 × 64) 64 × (32 + 8) = 2560
    // bytes each; gate, up (128 × 64) 128 × 40 = 5120 each; down (64 × 128) 64 × (64 + 16) = 5120: 25,600 a
    // layer. Float32: embeddings and head 100 × 64 × 4 = 25,600 each, two norms a layer and the final one
    // 64 × 4 = 256 each (5 × 256 = 1280). At int8 the codes double: 4 × 64 × (64 + 8) + 2 × 128 × 72 + 64 × 144.
    const config = Effect.runSync(parseLlamaConfig("config.json", { model_type: "llama", hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100 }))
    const float32Rest = 2 * 25_600 + 5 * 256
    expect(llamaWeightBytes(config, "int4")).toBe(2 * 25_600 + float32Rest)
    expect(llamaWeightBytes(config, "int8")).toBe(2 * (4 * 64 * 72 + 2 * 128 * 72 + 64 * 144) + float32Rest)
    expect(llamaWeightBytes(config, "float32")).toBe(folderWeightBytes(folderWith({ model_type: "llama", hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100 })))
    // float16 halves every matrix (embeddings and head too); norms stay float32.
    expect(llamaWeightBytes(config, "float16")).toBe(llamaWeightBytes(config, "float32") / 2 + 5 * 256 / 2)
  })

  it("load at int4: a large vocabulary's float32 embeddings and head count in full (a 262k-token Gemma-like shape)", async () => {
    // 4 layers of 105M projection weights; embeddings and LM head 262,144 × 2560 float32: 5.37 GB, kept float32 at
    // int4. Every weight at int4's 0.625 bytes would say 1.1 GB × 1.3 and pass a 3 GiB budget; held as loaded they
    // need at least the embeddings and head × 1.3.
    const folder = folderWith({ model_type: "llama", hidden_size: 2560, intermediate_size: 10240, num_hidden_layers: 4, num_attention_heads: 20, vocab_size: 262_144 })
    const embeddingsAndHead = 2 * 262_144 * 2560 * 4
    expect((folderWeightBytes(folder)! / 4) * NARROWEST_BYTES_PER_WEIGHT * RUNTIME_FACTOR).toBeLessThan(3 * GiB)
    const error = await Effect.runPromise(Effect.flip(ensureFolderFits(folder, "model-llama", 3 * GiB, "int4")))
    expect(error.neededBytes).toBeGreaterThan(embeddingsAndHead * RUNTIME_FACTOR)
    expect(error.message).toContain("does not fit even with 4-bit weights")
    // At float32 the advice counts int4 the same way: its 4-bit figure is the int4 load's need.
    const atFloat32 = await Effect.runPromise(Effect.flip(ensureFolderFits(folder, "model-llama", 3 * GiB)))
    expect(atFloat32.message).toContain(`4-bit ≈ ${(error.neededBytes / GiB).toFixed(1)} GiB`)
  })
})
