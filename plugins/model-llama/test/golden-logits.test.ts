import { existsSync, readFileSync } from "node:fs"
import * as nodePath from "node:path"
import { toFloat64 } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { leftPadRows, makeStepFeeds } from "@refine-af/models"
import { runScoped, tinyRuntime } from "./support/runtime.ts"
import { repoRoot } from "./support/tiny-model.ts"

interface GoldenPrompt {
  readonly ids: ReadonlyArray<number>
  readonly sliceIds: ReadonlyArray<number>
  readonly sliceLogits: ReadonlyArray<ReadonlyArray<number>>
  readonly positions: ReadonlyArray<{ mean: number; std: number; logsumexp: number; argmax: number; max: number }>
  readonly greedy: ReadonlyArray<number>
}
const golden = (preset: string): { prompts: ReadonlyArray<GoldenPrompt> } =>
  JSON.parse(readFileSync(goldenFile(preset), "utf8"))

/** The golden of a preset: a multimodal one's decoder is its text model's (the same weights, drawn by their text names). */
const goldenFile = (preset: string) => nodePath.join(repoRoot, `tools/golden/llama/golden-${({ gemma3: "gemma3_text", mistral3: "mistral" } as Record<string, string>)[preset] ?? preset}.json`)

/** Relative error as max |a − b| / max |b| over a set of values. */
const relativeError = (pairs: ReadonlyArray<readonly [number, number]>) => {
  let diff = 0
  let scale = 0
  for (const [a, b] of pairs) {
    diff = Math.max(diff, Math.abs(a - b))
    scale = Math.max(scale, Math.abs(b))
  }
  return diff / scale
}

describe.each(["llama", "mistral", "qwen2", "qwen3", "olmo2", "olmo3", "smollm3", "granite", "gemma2", "gemma3_text", "phi3", "gemma3", "mistral3"] as const)("%s logits vs the PyTorch reference", (preset) => {
  it("matches sliced logits and whole-vocabulary statistics at every position of a left-padded batch (fp32 rel. err ≤ 1e-4)", async () => {
    expect(existsSync(goldenFile(preset))).toBe(true)
    const { prompts } = golden(preset)
    const length = Math.max(...prompts.map((p) => p.ids.length))
    const { logits, vocab } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime(preset)
      const shape = { batch: prompts.length, length, cache: 0 }
      const exe = yield* runtime.executable(shape, "all-logits")
      const feeds = makeStepFeeds(runtime.config, runtime.frequencies, shape, leftPadRows(prompts.map((p) => p.ids), length, runtime.padTokenId, 0), runtime.padTokenId)
      const out = yield* runtime.run(exe, feeds)
      return { logits: toFloat64(yield* runtime.backend.download(out.logits!)), vocab: runtime.config.vocabSize }
    }))
    const sliced: Array<readonly [number, number]> = []
    const stats: Array<readonly [number, number]> = []
    prompts.forEach((prompt, row) => {
      const padding = length - prompt.ids.length
      prompt.positions.forEach((expected, i) => {
        const offset = (row * length + padding + i) * vocab
        const values = logits.subarray(offset, offset + vocab)
        prompt.sliceIds.forEach((id, k) => sliced.push([values[id]!, prompt.sliceLogits[i]![k]!]))
        let total = 0
        let max = -Infinity
        let argmax = 0
        for (let v = 0; v < vocab; v++) {
          total += values[v]!
          if (values[v]! > max) [max, argmax] = [values[v]!, v]
        }
        const mean = total / vocab
        let squares = 0
        let exps = 0
        for (let v = 0; v < vocab; v++) {
          squares += (values[v]! - mean) ** 2
          exps += Math.exp(values[v]! - max)
        }
        stats.push([mean, expected.mean], [Math.sqrt(squares / vocab), expected.std], [max + Math.log(exps), expected.logsumexp], [max, expected.max])
        expect(argmax).toBe(expected.argmax)
      })
    })
    const slicedError = relativeError(sliced)
    const statsError = relativeError(stats)
    console.log(`${preset}: sliced-logit rel. err ${slicedError.toExponential(2)}, statistics rel. err ${statsError.toExponential(2)} over ${sliced.length} + ${stats.length} values`)
    expect(slicedError).toBeLessThan(1e-4)
    expect(statsError).toBeLessThan(1e-4)
  })
})
