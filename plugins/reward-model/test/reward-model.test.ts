/**
 * reward-model/hf on the ONNX CPU backend with the tiny OASST-style GPT-NeoX
 * reward model of tools/golden/gpt-neox (whose logits match float64 PyTorch):
 * tokenization through a BPE tokenizer.json the test writes, scores against
 * the float64 interpreter on the same ids, .bin = safetensors, cache, truncation.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect, Exit, Schema, type Scope } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { type Sample, type ScorerService } from "@refine-af/core"
import { gptNeoXScoreProgram, loadGptNeoX, loadTokenizer } from "@refine-af/models"
import { type BackendService, interpret } from "@refine-af/tensor"
import { hf, oasstTemplate, renderTemplate } from "../src/index.ts"
import { OASST_CHAT_TEMPLATE, writeBpeTokenizer } from "@refine-af/testing"

const golden = nodePath.resolve(import.meta.dirname, "../../../tools/golden/gpt-neox/tiny-gpt-neox-rm")
const work = mkdtempSync(nodePath.join(tmpdir(), "rm-test-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))
const folder = nodePath.join(work, "tiny-rm")
cpSync(golden, folder, { recursive: true })
writeBpeTokenizer(folder)

const samples: Array<Sample> = [
  { instruction: "Name the capital of France.", input: "", output: "Paris." },
  { instruction: "Add the numbers.", input: "2 and 3", output: "The sum is 5." },
  { instruction: "Say hi", input: "", output: "hi" }
]

const events: Array<[string, unknown]> = []
const makeScorer = (backend: BackendService, options: Record<string, unknown>, cacheDir?: string): Effect.Effect<ScorerService, unknown, Scope.Scope> =>
  hf.make({
    name: "rm",
    options: { path: folder, ...options } as never,
    seed: 0,
    uses: { backend },
    events: {
      progress: () => Effect.void,
      metric: (name, value) => Effect.sync(() => void events.push([name, value])),
      warn: (message) => Effect.sync(() => void events.push(["warn", message])),
      emit: () => Effect.void
    },
    ...(cacheDir === undefined ? {} : { cacheDir })
  })

const reference = async (texts: Array<string>): Promise<Array<number>> => {
  const model = await Effect.runPromise(Effect.scoped(loadGptNeoX(folder)))
  const tokenizer = await Effect.runPromise(loadTokenizer(folder))
  return texts.map((text) => {
    const ids = tokenizer.encode(text)
    const program = gptNeoXScoreProgram(model.config, model.head, { batch: 1, seq: ids.length }, "float64")
    const feeds: Record<string, ArrayLike<number>> = { input_ids: ids, positions: ids.map((_, i) => i), pool: ids.map((_, i) => (i === ids.length - 1 ? 1 : 0)) }
    for (const [name, w] of model.weights) feeds[name] = w.data
    return interpret(program, feeds)["logits"]!.data[0]!
  })
}

const run = <A>(f: (backend: BackendService) => Effect.Effect<A, unknown, Scope.Scope>) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(makeOnnxBackend({ provider: "cpu", threads: 1, worker: false, float16Weights: false }), f)))

describe("reward-model/hf", () => {
  it("fills absent options from the Schema: OpenAssistant's template, 8 rows a run, safetensors", () => {
    const decoded = Schema.decodeUnknownSync(hf.options)({ path: "m" })
    expect(decoded).toEqual({ path: "m", template: "<|prompter|>{prompt}<|endoftext|><|assistant|>{response}<|endoftext|>", batch_size: 8, weights: "safetensors" })
    expect(decoded.template).toBe(oasstTemplate)
  })

  it("tokenizes the OASST template through tokenizer.json (BPE, special tokens kept whole)", async () => {
    const tokenizer = await Effect.runPromise(loadTokenizer(folder))
    const ids = tokenizer.encode(renderTemplate(oasstTemplate, samples[2]!))
    expect(ids[0]).toBe(2) // <|prompter|>
    expect(ids).toContain(3) // <|assistant|>
    expect(ids[ids.length - 1]).toBe(0) // <|endoftext|>
    expect(tokenizer.encode(" the")).toEqual([tokenizer.encode(" the")[0]!]) // merged Ġt + he → Ġthe
  })

  it("scores batched, length-bucketed samples like the float64 reference (logits[0]) within 1e-4", async () => {
    const expected = await reference(samples.map((s) => renderTemplate(oasstTemplate, s)))
    const scores = await run((backend) => Effect.flatMap(makeScorer(backend, { batch_size: 2 }), (s) => s.score(samples)))
    scores.forEach((score, i) => expect(Math.abs(score.value - expected[i]!)).toBeLessThan(1e-4))
    expect(new Set(expected.map((v) => v.toFixed(6))).size).toBe(3)
  })

  it("gives identical scores from pytorch_model.bin and model.safetensors", async () => {
    const [a, b] = await run((backend) =>
      Effect.all([
        Effect.flatMap(makeScorer(backend, { weights: "safetensors" }), (s) => s.score(samples)),
        Effect.flatMap(makeScorer(backend, { weights: "bin" }), (s) => s.score(samples))
      ])
    )
    expect(b).toEqual(a)
  })

  it("truncates samples longer than max_length with a warning and a counted metric", async () => {
    events.length = 0
    const long = { instruction: "Talk", input: "", output: "ab ".repeat(40) }
    const [score] = await run((backend) => Effect.flatMap(makeScorer(backend, { max_length: 16 }), (s) => s.score([long])))
    const tokenizer = await Effect.runPromise(loadTokenizer(folder))
    const ids = tokenizer.encode(renderTemplate(oasstTemplate, long)).slice(0, 16)
    const [expected] = await reference([tokenizer.decode(ids, { skipSpecialTokens: false })])
    expect(Math.abs(score!.value - expected!)).toBeLessThan(1e-4)
    expect(events).toContainEqual(["reward_model_truncated", 1])
    expect(events.some(([k, m]) => k === "warn" && String(m).includes("longer than 16 tokens"))).toBe(true)
  })

  it("re-scores nothing on a re-run with the same cache folder", async () => {
    const cacheDir = nodePath.join(work, "cache")
    let runs = 0
    const counted = (backend: BackendService): BackendService => ({ ...backend, run: (exe, feeds) => Effect.tap(backend.run(exe, feeds), () => Effect.sync(() => void runs++)) })
    const first = await run((backend) => Effect.flatMap(makeScorer(counted(backend), {}, cacheDir), (s) => s.score(samples)))
    const afterFirst = runs
    expect(afterFirst).toBeGreaterThan(0)
    const second = await run((backend) => Effect.flatMap(makeScorer(counted(backend), {}, cacheDir), (s) => s.score(samples)))
    expect(runs).toBe(afterFirst)
    expect(second).toEqual(first)
  })

  it("a folder missing its tokenizer fails with a typed error and a fix", async () => {
    const bare = nodePath.join(work, "bare")
    cpSync(golden, bare, { recursive: true })
    const exit = await Effect.runPromiseExit(Effect.scoped(Effect.flatMap(makeOnnxBackend({ provider: "cpu", threads: 1, worker: false, float16Weights: false }), (backend) =>
      hf.make({ name: "rm", options: { path: bare } as never, seed: 0, uses: { backend }, events: { progress: () => Effect.void, metric: () => Effect.void, warn: () => Effect.void, emit: () => Effect.void } }))))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(Exit.isFailure(exit) && String(exit.cause)).toContain("tokenizer")
  })
})

// Llama-based reward models, and Qwen3-based ones (Skywork-Reward-V2-Qwen3): the same trunk with q/k head norms.
describe.each(["llama", "qwen3"] as const)("reward-model/hf on a %s sequence classifier", (family) => {
  const llamaFolder = nodePath.join(work, `tiny-${family}-rm`)
  cpSync(nodePath.resolve(import.meta.dirname, `../../../tools/golden/llama-classifier/tiny-${family}-classifier`), llamaFolder, { recursive: true })
  writeBpeTokenizer(llamaFolder)

  it("scores like the float64 Llama trunk + score head on the same ids within 1e-4, .bin = safetensors", async () => {
    const { buildHeadsGraph, llamaClassifierFeeds, loadLlamaClassifier } = await import("@refine-af/models")
    const model = await Effect.runPromise(Effect.scoped(loadLlamaClassifier(llamaFolder)))
    const tokenizer = await Effect.runPromise(loadTokenizer(llamaFolder))
    const expected = samples.map((s) => {
      const ids = tokenizer.encode(renderTemplate(oasstTemplate, s))
      const shape = { batch: 1, length: ids.length }
      const feeds: Record<string, ArrayLike<number>> = {}
      for (const [name, t] of Object.entries(llamaClassifierFeeds(model, [ids], shape))) feeds[name] = Array.from(t.data as ArrayLike<number | bigint>, Number)
      for (const [name, w] of model.weights) feeds[name] = w.data
      return interpret(buildHeadsGraph(model.config, shape, { score: { labels: 1, padTokenId: model.padTokenId } }, { dtype: "float64" }).build(), feeds)["scores"]!.data[0]!
    })
    const make = (backend: BackendService, weights: string) => hf.make({
      name: "llama-rm", options: { path: llamaFolder, batch_size: 2, weights } as never, seed: 0, uses: { backend },
      events: { progress: () => Effect.void, metric: () => Effect.void, warn: () => Effect.void, emit: () => Effect.void }
    })
    const [fromSafetensors, fromBin] = await run((backend) => Effect.all([
      Effect.flatMap(make(backend, "safetensors"), (s) => s.score(samples)),
      Effect.flatMap(make(backend, "bin"), (s) => s.score(samples))
    ]))
    fromSafetensors.forEach((score, i) => expect(Math.abs(score.value - expected[i]!)).toBeLessThan(1e-4))
    expect(fromBin).toEqual(fromSafetensors)
  })
})

// Chat-tuned reward models (Skywork-Reward-V2, ArmoRM, …) read a user turn and the answer through their own chat template.
describe("reward-model/hf with template: chat", () => {
  const chatFolder = nodePath.join(work, "tiny-qwen3-chat-rm")
  cpSync(nodePath.resolve(import.meta.dirname, "../../../tools/golden/llama-classifier/tiny-qwen3-classifier"), chatFolder, { recursive: true })
  // A chat template that writes OpenAssistant's format, BOS first (as Llama 3's does): stripped, since encoding adds the tokenizer's own.
  writeBpeTokenizer(chatFolder, { chatTemplate: OASST_CHAT_TEMPLATE })
  const make = (backend: BackendService, path: string, template?: string) => hf.make({
    name: "chat-rm", options: { path, ...(template === undefined ? {} : { template }) } as never, seed: 0, uses: { backend },
    events: { progress: () => Effect.void, metric: () => Effect.void, warn: () => Effect.void, emit: () => Effect.void }
  })

  it("scores each sample as the conversation its chat template renders: here exactly the OpenAssistant text, so the same scores", async () => {
    const [viaChat, viaText] = await run((backend) => Effect.all([
      Effect.flatMap(make(backend, chatFolder, "chat"), (s) => s.score(samples)),
      Effect.flatMap(make(backend, chatFolder), (s) => s.score(samples))
    ]))
    expect(viaChat).toEqual(viaText)
    // Not a constant: the samples score differently.
    expect(new Set(viaChat.map((s) => s.value)).size).toBe(samples.length)
  })

  it("a model without a chat template is refused before any sample, naming the way out", async () => {
    const plain = nodePath.join(work, "tiny-qwen3-plain-rm")
    cpSync(nodePath.resolve(import.meta.dirname, "../../../tools/golden/llama-classifier/tiny-qwen3-classifier"), plain, { recursive: true })
    writeBpeTokenizer(plain)
    const exit = await Effect.runPromiseExit(Effect.scoped(Effect.flatMap(makeOnnxBackend({ provider: "cpu", threads: 1, worker: false, float16Weights: false }), (backend) => make(backend, plain, "chat"))))
    expect(Exit.isFailure(exit)).toBe(true)
    const failure = Exit.isFailure(exit) ? String(exit.cause) : ""
    expect(failure).toContain("template: chat needs the model's chat template")
    expect(failure).toContain("chat_template")
  })
})
