/**
 * The T5 first-decoder-step program (float64 interpreter) against an
 * independent float64 PyTorch forward (tools/golden/t5/make_t5_golden.py) for
 * v1.0 (ReLU, tied, scaled head) and v1.1 (gated-GELU, untied), from
 * safetensors and from the torch.save `.bin` copy.
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import * as nodePath from "node:path"
import { describe, expect, it } from "vitest"
import { interpret } from "@refine-af/tensor"
import { loadT5, relativePositionBucket, t5FirstStepProgram, type T5Model } from "../src/index.ts"

const goldenDir = nodePath.resolve(import.meta.dirname, "../../../tools/golden/t5")
const golden = JSON.parse(readFileSync(nodePath.join(goldenDir, "golden.json"), "utf8")) as {
  models: Record<string, { cases: Array<{ tokens: Array<Array<number>>; logits: Array<Array<number>> }> }>
}
const load = (name: string, prefer: "safetensors" | "bin") => Effect.runPromise(Effect.scoped(loadT5(nodePath.join(goldenDir, name), { prefer })))

const logitsOf = (model: T5Model, tokens: Array<Array<number>>): Array<Array<number>> => {
  const batch = tokens.length
  const seq = Math.max(...tokens.map((t) => t.length))
  const feeds: Record<string, ArrayLike<number>> = {
    input_ids: tokens.flatMap((t) => [...t, ...new Array(seq - t.length).fill(model.config.padTokenId)]),
    attention_mask: tokens.flatMap((t) => Array.from({ length: seq }, (_, i) => (i < t.length ? 1 : 0)))
  }
  for (const [name, w] of model.weights) feeds[name] = w.data
  const out = interpret(t5FirstStepProgram(model.config, { batch, seq }, "float64"), feeds)["logits"]!
  const v = model.config.vocabSize
  return tokens.map((_, r) => Array.from(out.data.slice(r * v, (r + 1) * v)))
}

describe("T5 relative position buckets", () => {
  it("match transformers' bucketing (exact, logarithmic, clamped, by direction)", () => {
    // expected values printed by tools/golden/t5/make_t5_golden.py's bucket() (transformers' formula in torch)
    // bidirectional, 8 buckets, max distance 20: 4 per direction, 2 exact
    expect([-1, 0, 1, 2, 3, 5, 30].map((r) => relativePositionBucket(r, true, 8, 20))).toEqual([1, 0, 5, 6, 6, 6, 7])
    expect([-2, -3, -9, -19].map((r) => relativePositionBucket(r, true, 8, 20))).toEqual([2, 2, 3, 3])
    // unidirectional (decoder): only the past counts
    expect([3, 0, -1, -4, -7, -100].map((r) => relativePositionBucket(r, false, 32, 128))).toEqual([0, 0, 1, 4, 7, 30])
  })
})

describe.each(["tiny-t5-v1_0", "tiny-t5-v1_1"])("%s", (name) => {
  it("first-decoder-step logits match the float64 PyTorch forward within 1e-4", async () => {
    const model = await load(name, "safetensors")
    let worst = 0
    for (const { tokens, logits } of golden.models[name]!.cases) {
      logitsOf(model, tokens).forEach((row, r) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - logits[r]![j]!)))))
    }
    console.log(`${name}: max |ours - torch| = ${worst.toExponential(2)}`)
    expect(worst).toBeLessThan(1e-4)
  })

  it(".bin and safetensors copies give identical logits", async () => {
    const a = await load(name, "safetensors")
    const b = await load(name, "bin")
    const tokens = golden.models[name]!.cases[0]!.tokens
    expect(logitsOf(b, tokens)).toEqual(logitsOf(a, tokens))
  })
})
