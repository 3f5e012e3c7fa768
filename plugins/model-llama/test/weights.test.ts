import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { bfloat16BitsToFloat, expectedWeights, floatToBfloat16Bits, floatToHalfBits, halfBitsToFloat, loadModelFolder, loadWeights, openWeights } from "../src/index.ts"
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
})
