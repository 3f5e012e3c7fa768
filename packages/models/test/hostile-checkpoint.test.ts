/**
 * Hostile checkpoints: NaN/Inf weights are refused on load, naming the tensor (they used to
 * run and predict `!!!!…`), and a config.json with absurd sizes is refused before anything is
 * allocated (num_hidden_layers 1e9 used to run Node out of heap, exit 134).
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { checkLlamaFolder, loadModelFolder, loadWeights, openWeights, parseLlamaConfig, writeSafetensors } from "../src/index.ts"
import { tinyModel } from "./support/tiny-model.ts"

const loadAll = (folder: string) =>
  Effect.gen(function* () {
    const model = yield* loadModelFolder(folder)
    return yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeights(source, model.config, folder)))
  })

/** A copy of `folder` whose weights are rewritten by `edit`. */
const copyWithWeights = async (folder: string, edit: (name: string, data: Float32Array) => void) => {
  const weights = await Effect.runPromise(loadAll(folder))
  const copy = mkdtempSync(nodePath.join(tmpdir(), "refine-af-hostile-"))
  for (const file of readdirSync(folder)) if (!file.endsWith(".safetensors")) copyFileSync(nodePath.join(folder, file), nodePath.join(copy, file))
  const tensors = Object.entries(weights).map(([name, tensor]) => {
    const data = Float32Array.from(tensor.data as Float32Array)
    edit(name, data)
    return { name, dtype: "F32" as const, shape: tensor.shape, data: new Uint8Array(data.buffer) }
  })
  await Effect.runPromise(writeSafetensors(nodePath.join(copy, "model.safetensors"), tensors))
  return copy
}

describe("hostile checkpoints", () => {
  it("refuses NaN and Inf weights on load, naming the tensor, the count and the first position", async () => {
    const folder = await tinyModel("llama")
    expect(Object.keys(await Effect.runPromise(loadAll(folder))).length).toBeGreaterThan(0)
    const target = "model.layers.1.mlp.up_proj.weight"
    const poisoned = await copyWithWeights(folder, (name, data) => {
      if (name === target) {
        data[5] = Number.NaN
        data[9] = Number.POSITIVE_INFINITY
      }
    })
    const error = await Effect.runPromise(Effect.flip(loadAll(poisoned)))
    expect(error._tag).toBe("NonFiniteWeightsError")
    expect(error.message).toContain(`tensor ${target} holds 2 non-finite values (first: NaN at index 5)`)
    expect(error.message).toContain("Re-download or re-convert it")
  })

  it("refuses config sizes that cannot fit in memory before allocating anything", async () => {
    const absurd = { model_type: "llama", vocab_size: 32000, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 1e9, num_attention_heads: 32 }
    const started = performance.now()
    const error = await Effect.runPromise(Effect.flip(parseLlamaConfig("config.json", absurd)))
    expect(performance.now() - started).toBeLessThan(1000)
    expect(error._tag).toBe("InvalidConfigError")
    expect(error.message).toMatch(/num_hidden_layers 1000000000, .* imply 2\.\d\de\+17 parameters, .* GiB even as int4, more than this machine's .* GiB of memory/)
    // A real 7B config still parses (its float32 weights, 27 GiB, are judged against the real machine elsewhere only when they exceed it).
    const small = { ...absurd, num_hidden_layers: 2 }
    expect((await Effect.runPromise(parseLlamaConfig("config.json", small))).numLayers).toBe(2)
  })

  it("checkLlamaFolder (validate's look into a path option) finds huge hidden sizes and missing files without allocating", async () => {
    const folder = await tinyModel("llama")
    expect(checkLlamaFolder(folder)).toBeUndefined()
    const huge = mkdtempSync(nodePath.join(tmpdir(), "refine-af-huge-"))
    for (const file of readdirSync(folder)) copyFileSync(nodePath.join(folder, file), nodePath.join(huge, file))
    writeFileSync(nodePath.join(huge, "config.json"), JSON.stringify({ model_type: "llama", vocab_size: 32000, hidden_size: 4_000_000, intermediate_size: 11008, num_hidden_layers: 2, num_attention_heads: 32 }))
    expect(checkLlamaFolder(huge)?.problem).toMatch(/hidden_size 4000000, .* more than this machine's/)
    const empty = mkdtempSync(nodePath.join(tmpdir(), "refine-af-empty-"))
    expect(checkLlamaFolder(empty)?.problem).toContain("it has no config.json, model.safetensors (or model.safetensors.index.json), tokenizer.json")
  })

  it("checkLlamaFolder finds a truncated weight file and a cut-off tokenizer.json (validate, not minutes into a run)", async () => {
    const folder = await tinyModel("llama")
    const copy = () => {
      const to = mkdtempSync(nodePath.join(tmpdir(), "refine-af-damaged-"))
      for (const file of readdirSync(folder)) copyFileSync(nodePath.join(folder, file), nodePath.join(to, file))
      return to
    }
    const truncated = copy()
    truncateSync(nodePath.join(truncated, "model.safetensors"), 4096)
    const weights = checkLlamaFolder(truncated)
    expect(weights?.problem).toMatch(/model\.safetensors.*(truncated|ends at data offset)/)
    expect(weights?.fix).toMatch(/download the model folder again/)
    const cutTokenizer = copy()
    writeFileSync(nodePath.join(cutTokenizer, "tokenizer.json"), readFileSync(nodePath.join(folder, "tokenizer.json"), "utf8").slice(0, 300))
    expect(checkLlamaFolder(cutTokenizer)?.problem).toMatch(/tokenizer\.json is not readable JSON .*truncated or damaged/)
    // A shard named by the index that is not there.
    const sharded = copy()
    writeFileSync(nodePath.join(sharded, "model.safetensors.index.json"), JSON.stringify({ weight_map: { "model.embed_tokens.weight": "model-00001-of-00002.safetensors" } }))
    expect(checkLlamaFolder(sharded)?.problem).toMatch(/model-00001-of-00002\.safetensors is missing/)
  })
})
