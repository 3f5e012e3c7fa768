/**
 * The Llama-family trunk with the `score` head (float64 interpreter) against
 * an independent float64 PyTorch LlamaForSequenceClassification /
 * Qwen3ForSequenceClassification / Gemma2ForSequenceClassification forward (tools/golden/llama-classifier), from
 * safetensors and from `.bin`.
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import * as nodePath from "node:path"
import { describe, expect, it } from "vitest"
import { interpret } from "@refine-af/tensor"
import { buildHeadsGraph, llamaClassifierFeeds, loadLlamaClassifier, type LlamaClassifier } from "../src/index.ts"

const goldenDir = nodePath.resolve(import.meta.dirname, "../../../tools/golden/llama-classifier")
type Golden = { cases: Array<{ tokens: Array<Array<number>>; scores: Array<Array<number>> }> }
const classifiers = [
  { name: "llama", folder: "tiny-llama-classifier", golden: "golden.json" },
  { name: "qwen3", folder: "tiny-qwen3-classifier", golden: "golden-qwen3.json" },
  // Gemma 2 reward models (Skywork-Reward-Gemma-2, GRM-Gemma2): soft-capped scores inside, no logit cap on the score.
  { name: "gemma2", folder: "tiny-gemma2-classifier", golden: "golden-gemma2.json" }
] as const

const scoresOf = (model: LlamaClassifier, tokens: Array<Array<number>>): Array<Array<number>> => {
  const shape = { batch: tokens.length, length: Math.max(...tokens.map((t) => t.length)) }
  const program = buildHeadsGraph(model.config, shape, { score: { labels: model.labels, padTokenId: model.padTokenId } }, { dtype: "float64" }).build()
  const feeds: Record<string, ArrayLike<number>> = {}
  for (const [name, t] of Object.entries(llamaClassifierFeeds(model, tokens, shape))) feeds[name] = Array.from(t.data as ArrayLike<number | bigint>, Number)
  for (const [name, w] of model.weights) feeds[name] = w.data
  const out = interpret(program, feeds)["scores"]!
  return tokens.map((_, r) => Array.from(out.data.slice(r * model.labels, (r + 1) * model.labels)))
}

describe.each(classifiers)("$name sequence classifier", ({ name, folder, golden: goldenFile }) => {
  const golden = JSON.parse(readFileSync(nodePath.join(goldenDir, goldenFile), "utf8")) as Golden
  const load = (prefer: "safetensors" | "bin") => Effect.runPromise(Effect.scoped(loadLlamaClassifier(nodePath.join(goldenDir, folder), { prefer })))
  it("scores right-padded batches like the float64 PyTorch forward within 1e-4", async () => {
    const model = await load("safetensors")
    let worst = 0
    for (const { tokens, scores } of golden.cases) {
      scoresOf(model, tokens).forEach((row, r) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - scores[r]![j]!)))))
    }
    console.log(`${name} classifier: max |ours - torch| = ${worst.toExponential(2)}`)
    expect(worst).toBeLessThan(1e-4)
  })

  it(".bin and safetensors copies give identical scores", async () => {
    const tokens = golden.cases[0]!.tokens
    expect(scoresOf(await load("bin"), tokens)).toEqual(scoresOf(await load("safetensors"), tokens))
  })
})
