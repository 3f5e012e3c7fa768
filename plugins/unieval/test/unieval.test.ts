/**
 * unieval/dialog on the ONNX CPU backend with the tiny T5 v1.0 of
 * tools/golden/t5 (first-step logits equal to float64 PyTorch) and a Unigram
 * tokenizer.json the test writes: UniEval's questions, P(Yes)/(P(Yes)+P(No))
 * against the float64 interpreter, .bin = safetensors, truncation, cache.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect, Schema, type Scope } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { writeUnigramTokenizer } from "@refine-af/testing"
import type { Sample, ScorerService } from "@refine-af/core"
import { loadT5, loadTokenizer, t5FirstStepProgram } from "@refine-af/models"
import { type BackendService, interpret } from "@refine-af/tensor"
import { uniEvalDialogQuestion, type UniEvalDialogDimension } from "@refine-af/text"
import { dialog } from "../src/index.ts"

const golden = nodePath.resolve(import.meta.dirname, "../../../tools/golden/t5/tiny-t5-v1_0")
const work = mkdtempSync(nodePath.join(tmpdir(), "unieval-test-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))
const folder = nodePath.join(work, "tiny-unieval")
cpSync(golden, folder, { recursive: true })
writeUnigramTokenizer(folder)

const samples: Array<Sample> = [
  { instruction: "is this natural", input: "", output: "yes this is natural." },
  { instruction: "given the history", input: "a dialogue", output: "an understandable response" }
]
const events: Array<[string, unknown]> = []
const makeScorer = (backend: BackendService, options: Record<string, unknown>, cacheDir?: string): Effect.Effect<ScorerService, unknown, Scope.Scope> =>
  dialog.make({
    name: "unieval",
    options: { path: folder, batch_size: 4, ...options } as never,
    seed: 0,
    uses: { backend },
    events: { progress: () => Effect.void, metric: (n, v) => Effect.sync(() => void events.push([n, v])), warn: (m) => Effect.sync(() => void events.push(["warn", m])), emit: () => Effect.void },
    ...(cacheDir === undefined ? {} : { cacheDir })
  })
const run = <A>(f: (backend: BackendService) => Effect.Effect<A, unknown, Scope.Scope>) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(makeOnnxBackend({ provider: "cpu", threads: 1, worker: false, float16Weights: false }), f)))

/** P(Yes)/(P(Yes)+P(No)) from a full float64 softmax of the interpreter's logits. */
const reference = async (sample: Sample, dimension: UniEvalDialogDimension, maxLength = 1024): Promise<number> => {
  const model = await Effect.runPromise(Effect.scoped(loadT5(folder)))
  const tokenizer = await Effect.runPromise(loadTokenizer(folder))
  let ids = tokenizer.encode(uniEvalDialogQuestion(dimension, sample))
  if (ids.length > maxLength) ids = [...ids.slice(0, maxLength - 1), 1]
  const feeds: Record<string, ArrayLike<number>> = { input_ids: ids, attention_mask: ids.map(() => 1) }
  for (const [name, w] of model.weights) feeds[name] = w.data
  const logits = Array.from(interpret(t5FirstStepProgram(model.config, { batch: 1, seq: ids.length }, "float64"), feeds)["logits"]!.data)
  const m = Math.max(...logits)
  const p = logits.map((l) => Math.exp(l - m))
  const yes = tokenizer.encode("Yes", { addSpecialTokens: false })[0]!
  const no = tokenizer.encode("No", { addSpecialTokens: false })[0]!
  return p[yes]! / (p[yes]! + p[no]!)
}

describe("unieval/dialog", () => {
  it("fills absent options from the Schema with the values make() falls back to", () => {
    const decoded = Schema.decodeUnknownSync(dialog.options)({ path: "m" })
    expect(decoded).toEqual({ path: "m", dimensions: ["naturalness", "coherence", "understandability"], batch_size: 8, max_length: 1024, weights: "safetensors" })
  })

  it("tokenizes UniEval's questions with the Unigram tokenizer.json: </s> separators are the eos token", async () => {
    const tokenizer = await Effect.runPromise(loadTokenizer(folder))
    const ids = tokenizer.encode(uniEvalDialogQuestion("naturalness", samples[0]!))
    expect(ids.filter((id) => id === 1)).toHaveLength(2) // the </s> separator and the appended eos
    expect(ids[ids.length - 1]).toBe(1)
    expect(tokenizer.encode("Yes", { addSpecialTokens: false })).toHaveLength(1)
  })

  it("scores P(Yes)/(P(Yes)+P(No)) per dimension like the float64 reference within 1e-4", async () => {
    const scores = await run((backend) => Effect.flatMap(makeScorer(backend, {}), (s) => s.score(samples)))
    for (const [i, sample] of samples.entries()) {
      for (const dimension of ["naturalness", "coherence", "understandability"] as const) {
        expect(Math.abs(scores[i]!.parts![dimension]! - await reference(sample, dimension))).toBeLessThan(1e-4)
      }
      const parts = Object.values(scores[i]!.parts!)
      expect(scores[i]!.value).toBeCloseTo(parts.reduce((a, b) => a + b, 0) / 3, 12)
    }
  })

  it("gives identical scores from pytorch_model.bin and model.safetensors", async () => {
    const [a, b] = await run((backend) => Effect.all([
      Effect.flatMap(makeScorer(backend, { weights: "safetensors" }), (s) => s.score(samples)),
      Effect.flatMap(makeScorer(backend, { weights: "bin" }), (s) => s.score(samples))
    ]))
    expect(b).toEqual(a)
  })

  it("truncates questions over max_length (warning + metric) and re-scores nothing from the cache", async () => {
    events.length = 0
    const long = { instruction: "talk", input: "", output: "a natural response ".repeat(20) }
    const cacheDir = nodePath.join(work, "cache")
    let runs = 0
    const counted = (backend: BackendService): BackendService => ({ ...backend, run: (e, f) => Effect.tap(backend.run(e, f), () => Effect.sync(() => void runs++)) })
    const [score] = await run((backend) => Effect.flatMap(makeScorer(counted(backend), { max_length: 24, dimensions: ["naturalness"] }, cacheDir), (s) => s.score([long])))
    expect(Math.abs(score!.parts!["naturalness"]! - await reference(long, "naturalness", 24))).toBeLessThan(1e-4)
    expect(events).toContainEqual(["unieval_truncated", 1])
    expect(events.find(([kind]) => kind === "warn")?.[1]).toMatch(/^unieval: 1 question\(s\) of 1 sample\(s\) longer than 24 tokens \(longest \d+\) were truncated$/)
    const before = runs
    await run((backend) => Effect.flatMap(makeScorer(counted(backend), { max_length: 24, dimensions: ["naturalness"] }, cacheDir), (s) => s.score([long])))
    expect(runs).toBe(before)
  })
})
