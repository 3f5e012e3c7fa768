/**
 * The policy programs compute their heads on the last W positions only (the
 * window, TRL's `logits_to_keep`). Checked against the programs that compute
 * them on every position, in the float64 interpreter (evaluation heads, and a
 * PPO-like objective's loss and gradients), and through onnxruntime against the
 * scoring path; and the scoring path (windowed too) against log-softmax in
 * float64 of every position's logits from the all-logits program.
 */
import { Effect } from "effect"
import { interpret, toFloat64, type HostTensor } from "@refine-af/tensor"
import type { Objective, TokenSequence } from "@refine-af/training"
import { leftPadRows, makeStepFeeds, type LlamaProjection } from "@refine-af/models"
import { describe, expect, it } from "vitest"
import { lengthBucket, placeFeed, policyAccumulateProgram, policyEvaluateProgram, policyLayout, policyNames, readRow, scoreSequences, windowBucket } from "../src/index.ts"
import { runScoped } from "./support/runtime.ts"
import { maxRelative, ppoLike, smallPolicy, waveParams } from "./support/policy.ts"

/** Long prompts, short completions: 37 + 5 and 20 + 9 tokens → length bucket 48, window 16. */
const seqs: Array<TokenSequence> = [
  { tokens: Array.from({ length: 42 }, (_, i) => 3 + ((i * 37) % 500)), promptLength: 37 },
  { tokens: Array.from({ length: 29 }, (_, i) => 4 + ((i * 91) % 500)), promptLength: 20 }
]
const lora = { rank: 2, alpha: 4, targets: ["q_proj", "v_proj"] as Array<LlamaProjection>, scale: 2 }
describe("policy head window", () => {
  it("windowBucket: the multiple of 16 holding the longest completion + 1, at most the length", () => {
    expect(windowBucket(5, 48)).toBe(16)
    expect(windowBucket(15, 48)).toBe(16)
    expect(windowBucket(16, 48)).toBe(32)
    expect(windowBucket(32, 64)).toBe(48)
    expect(windowBucket(40, 48)).toBe(48)
    expect(windowBucket(3, 16)).toBe(16)
  })

  it("windowed programs give the full programs' heads, loss and gradients (float64 interpreter)", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { runtime, config } = yield* smallPolicy
      return { runtime, config, fit: policyLayout(runtime, seqs), full: policyLayout(runtime, seqs, { window: "full" }) }
    }))
    expect(r.fit.shape).toEqual({ batch: 2, length: 48, window: 16 })
    expect(r.full.shape.window).toBe(48)
    expect(r.fit.tokens).toBe(14)
    const params = waveParams(r.config, lora)
    const completion = seqs.map((s) => s.tokens.length - s.promptLength)
    const exact = (tensors: Record<string, HostTensor>) => Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, toFloat64(t)]))
    const run = (layout: typeof r.fit, kind: "evaluate" | "train") => {
      const built = kind === "evaluate"
        ? { program: policyEvaluateProgram(r.config, layout.shape, lora, { values: true, entropy: true }), carry: [] }
        : policyAccumulateProgram(r.config, layout.shape, lora, ppoLike as Objective<string>)
      const program = built.program
      const feeds: Record<string, HostTensor> = { ...layout.feeds, ...params }
      if (kind === "train") {
        feeds[policyNames.feed("advantages")] = placeFeed(layout, completion.map((n) => Array.from({ length: n }, (_, k) => Math.cos(k))))
        feeds[policyNames.feed("oldLogprobs")] = placeFeed(layout, completion.map((n) => Array.from({ length: n }, (_, k) => -6 + 0.1 * k)))
        feeds[policyNames.feed("returns")] = placeFeed(layout, completion.map((n) => Array.from({ length: n }, (_, k) => 0.5 - 0.2 * k)))
      }
      for (const p of program.parameters) if (!p.trainable && feeds[p.name] === undefined) feeds[p.name] = r.runtime.weights[p.name]!
      for (const c of built.carry) feeds[c.input] = { dtype: "float32", shape: [...c.shape], data: new Float32Array(c.shape.reduce((a, b) => a * b, 1)) }
      return interpret(program, exact(feeds))
    }
    const fitEval = run(r.fit, "evaluate")
    const fullEval = run(r.full, "evaluate")
    for (const head of ["logprobs", "entropy", "values"]) {
      expect(fitEval[head]!.shape).toEqual([2, 16])
      seqs.forEach((_, i) => {
        const a = readRow(r.fit, fitEval[head]!.data, i, completion[i]!)
        const b = readRow(r.full, fullEval[head]!.data, i, completion[i]!)
        expect(maxRelative(a, b), `${head} row ${i}`).toBeLessThan(1e-12)
      })
    }
    const fitTrain = run(r.fit, "train")
    const fullTrain = run(r.full, "train")
    expect(fitTrain["loss"]!.data[0]).toBeCloseTo(fullTrain["loss"]!.data[0]!, 12)
    const grads = Object.keys(fullTrain).filter((n) => n.startsWith("next/accum/"))
    expect(grads.length).toBe(2 * 2 * 2 + 2)
    for (const name of grads) {
      expect(Array.from(fullTrain[name]!.data).some((x) => x !== 0), name).toBe(true)
      expect(maxRelative(fitTrain[name]!.data, fullTrain[name]!.data), name).toBeLessThan(1e-10)
    }
  }, 180_000)

  it("scoring a long prompt's short continuation (window < length) gives log-softmax of the all-position logits", async () => {
    const scored = [{ ids: seqs[0]!.tokens, from: 40 }, { ids: seqs[1]!.tokens, from: 21 }]
    const r = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* smallPolicy
      const length = lengthBucket(42)
      const exe = yield* runtime.executable({ batch: 2, length, cache: 0 }, "all-logits")
      const out = yield* runtime.run(exe, makeStepFeeds(runtime.config, runtime.frequencies, { batch: 2, length, cache: 0 }, leftPadRows(scored.map((s) => s.ids), length, runtime.padTokenId, 0), runtime.padTokenId))
      const logits = (yield* runtime.backend.download(out["logits"]!)).data as Float32Array
      return { length, vocab: runtime.config.vocabSize, logits, windowed: yield* scoreSequences(runtime, scored, 8) }
    }))
    expect(windowBucket(42 - 21, r.length)).toBeLessThan(r.length)
    scored.forEach((s, row) => {
      const expected = Array.from({ length: s.ids.length - s.from }, (_, j) => {
        const k = s.from + j
        const at = (row * r.length + r.length - s.ids.length + k - 1) * r.vocab
        const slice = Array.from(r.logits.subarray(at, at + r.vocab))
        const top = Math.max(...slice)
        return slice[s.ids[k]!]! - top - Math.log(slice.reduce((a, x) => a + Math.exp(x - top), 0))
      })
      expect(r.windowed[row]).toHaveLength(expected.length)
      r.windowed[row]!.forEach((x, j) => expect(x, `row ${row} token ${j}`).toBeCloseTo(expected[j]!, 4))
    })
  }, 120_000)

  it("a session's evaluate on long prompts (window < length) equals the scoring path's logprobs (onnxruntime)", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { policy, runtime } = yield* smallPolicy
      const session = yield* policy.session({ lora: { rank: 4, alpha: 8, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj"] }, seed: 1 })
      return {
        evaluated: yield* session.evaluate(seqs, { entropy: true }),
        scored: yield* scoreSequences(runtime, seqs.map((s) => ({ ids: s.tokens, from: s.promptLength })), 8)
      }
    }))
    seqs.forEach((s, i) => {
      expect(r.evaluated[i]!.logprobs).toHaveLength(s.tokens.length - s.promptLength)
      r.evaluated[i]!.logprobs.forEach((x, k) => expect(x, `row ${i} token ${k}`).toBeCloseTo(r.scored[i]![k]!, 5))
      r.evaluated[i]!.entropy!.forEach((x) => expect(x).toBeGreaterThan(0))
    })
  }, 120_000)
})
