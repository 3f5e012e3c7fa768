import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { expectedWeights, loadWeights, openWeights } from "@refine-af/models"
import { bfloat16BitsToFloat, floatToBfloat16Bits, floatToHalfBits, halfBitsToFloat, loadModelFolder, openSafetensors, writeSafetensors } from "@refine-af/models"
import { tinyModel } from "./support/tiny-model.ts"

const load = (folder: string) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const model = yield* loadModelFolder(folder)
    return { config: model.config, weights: yield* loadWeights(yield* openWeights(model), model.config, folder) }
  })))

describe("checkpoint weights", () => {
  it("BF16 and F16 checkpoints load as the float32 values their bits encode", async () => {
    const reference = await load(tinyModel("llama", { set: { vocab_size: 512 } }))
    for (const [dtype, roundTrip] of [
      ["BF16", (x: number) => bfloat16BitsToFloat(floatToBfloat16Bits(x))],
      ["F16", (x: number) => halfBitsToFloat(floatToHalfBits(x))]
    ] as const) {
      const half = await load(tinyModel("llama", { dtype, set: { vocab_size: 512 } }))
      for (const name of ["model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight", "model.norm.weight"]) {
        const expected = (reference.weights[name]!.data as Float32Array).map(roundTrip)
        expect(half.weights[name]!.data).toEqual(expected)
      }
    }
  })

  it("expects exactly the HF tensor names of the architecture", async () => {
    const { config } = await load(tinyModel("qwen2"))
    const names = [...expectedWeights(config).keys()]
    expect(names).toContain("model.layers.0.self_attn.q_proj.bias")
    expect(names).not.toContain("model.layers.0.self_attn.o_proj.bias")
    expect(names).not.toContain("lm_head.weight")
  })

  it("a checkpoint whose shapes disagree with config.json fails before reading tensors", async () => {
    const folder = tinyModel("llama", { set: { vocab_size: 512 } })
    const error = await Effect.runPromise(Effect.flip(Effect.scoped(Effect.gen(function* () {
      const model = yield* loadModelFolder(folder)
      return yield* loadWeights(yield* openWeights(model), { ...model.config, hiddenSize: 32 }, folder)
    }))))
    expect(error._tag).toBe("SafetensorsFormatError")
    expect(error.message).toContain("do not fit config.json")
  })

  it("a sharded checkpoint (model.safetensors.index.json) loads the same weights as the single file", async () => {
    const single = tinyModel("llama", { set: { vocab_size: 512 } })
    const sharded = mkdtempSync(nodePath.join(tmpdir(), "sharded-model-"))
    for (const file of ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(nodePath.join(single, file), nodePath.join(sharded, file))
    // Split the tensors over two shards, alternating, with the index HF writes.
    const weightMap: Record<string, string> = {}
    await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const file = yield* openSafetensors(nodePath.join(single, "model.safetensors"))
      const shards: Array<Array<{ name: string; dtype: "F32"; shape: ReadonlyArray<number>; data: Uint8Array }>> = [[], []]
      let i = 0
      for (const [name, entry] of file.header.tensors) {
        const shard = i++ % 2
        shards[shard]!.push({ name, dtype: "F32", shape: entry.shape, data: yield* file.readBytes(name) })
        weightMap[name] = `model-0000${shard + 1}-of-00002.safetensors`
      }
      for (const [k, tensors] of shards.entries()) yield* writeSafetensors(nodePath.join(sharded, `model-0000${k + 1}-of-00002.safetensors`), tensors)
    })))
    writeFileSync(nodePath.join(sharded, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }))
    const a = await load(single)
    const b = await load(sharded)
    expect(Object.keys(b.weights).sort()).toEqual(Object.keys(a.weights).sort())
    for (const name of Object.keys(a.weights)) expect(b.weights[name]!.data).toEqual(a.weights[name]!.data)
  })
})
