/**
 * The GPT-NeoX scoring program (float64 interpreter) against an independent
 * float64 PyTorch forward (tools/golden/gpt-neox/make_gpt_neox_golden.py), for
 * OASST's reward head and HF's classifier head, from safetensors and from the
 * torch.save `.bin` copy of the same weights.
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import * as nodePath from "node:path"
import { describe, expect, it } from "vitest"
import { interpret } from "@refine-af/tensor"
import { gptNeoXScoreProgram, loadGptNeoX, type GptNeoXModel } from "../src/index.ts"

const goldenDir = nodePath.resolve(import.meta.dirname, "../../../tools/golden/gpt-neox")
const golden = JSON.parse(readFileSync(nodePath.join(goldenDir, "golden.json"), "utf8")) as {
  models: Record<string, { cases: Array<{ tokens: Array<Array<number>>; logits: Array<Array<number>> }> }>
}

const load = (name: string, prefer: "safetensors" | "bin") => Effect.runPromise(Effect.scoped(loadGptNeoX(nodePath.join(goldenDir, name), { prefer })))

const score = (model: GptNeoXModel, tokens: Array<Array<number>>): Array<Array<number>> => {
  const batch = tokens.length
  const seq = Math.max(...tokens.map((t) => t.length))
  const program = gptNeoXScoreProgram(model.config, model.head, { batch, seq }, "float64")
  const pad = model.config.padTokenId ?? 0
  const feeds: Record<string, ArrayLike<number>> = {
    input_ids: tokens.flatMap((t) => [...t, ...new Array(seq - t.length).fill(pad)]),
    positions: tokens.flatMap(() => Array.from({ length: seq }, (_, i) => i)),
    pool: tokens.flatMap((t) => Array.from({ length: seq }, (_, i) => (i === t.length - 1 ? 1 : 0)))
  }
  for (const [name, w] of model.weights) feeds[name] = w.data
  const logits = interpret(program, feeds)["logits"]!
  const labels = logits.shape[1]!
  return tokens.map((_, row) => Array.from(logits.data.slice(row * labels, (row + 1) * labels)))
}

describe.each(["tiny-gpt-neox-rm", "tiny-gpt-neox-cls"])("%s", (name) => {
  it("matches the float64 PyTorch forward within 1e-4 (right-padded batches)", async () => {
    const model = await load(name, "safetensors")
    expect(model.weightsFile.endsWith("model.safetensors")).toBe(true)
    for (const { tokens, logits } of golden.models[name]!.cases) {
      const ours = score(model, tokens)
      let worst = 0
      ours.forEach((row, r) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - logits[r]![j]!)))))
      expect(worst).toBeLessThan(1e-4)
      console.log(`${name}: max |ours - torch| = ${worst.toExponential(2)}`)
    }
  })

  it("reads identical weights from pytorch_model.bin, so scores are identical", async () => {
    const fromSafetensors = await load(name, "safetensors")
    const fromBin = await load(name, "bin")
    expect(fromBin.weightsFile.endsWith("pytorch_model.bin")).toBe(true)
    expect(fromBin.head).toEqual(fromSafetensors.head)
    expect([...fromBin.weights.keys()].sort()).toEqual([...fromSafetensors.weights.keys()].sort())
    for (const [key, w] of fromSafetensors.weights) expect(Buffer.from(fromBin.weights.get(key)!.data.buffer).equals(Buffer.from(w.data.buffer))).toBe(true)
    const tokens = golden.models[name]!.cases[0]!.tokens
    expect(score(fromBin, tokens)).toEqual(score(fromSafetensors, tokens))
  })
})
