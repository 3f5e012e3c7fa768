/**
 * Shared prompts: rows completing the same prompt run it through the decoder
 * once (`policy-layout.ts`, `sharedPrompt` of `llamaTrunk`). Checked against
 * the unshared layout in the float64 interpreter (evaluation heads, and a
 * PPO-like objective's loss and LoRA / value-head gradients, which reach each
 * prompt from all of its rows, also with gradient checkpointing), through
 * onnxruntime in a session, and the
 * layout's choice of when to share.
 */
import { Effect } from "effect"
import { interpret, toFloat64, type HostTensor } from "@refine-af/tensor"
import type { Objective, TokenSequence } from "@refine-af/training"
import type { LlamaProjection } from "@refine-af/models"
import { describe, expect, it } from "vitest"
import { makeLlamaPolicyModel, placeFeed, policyAccumulateProgram, policyEvaluateProgram, policyLayout, policyNames, readRow, scoreSequences } from "../src/index.ts"
import { sharedPromptBatch } from "../src/model/shared-prompt.ts"
import { runScoped } from "./support/runtime.ts"
import { EOS, maxRelative, ppoLike, smallPolicy, smallPolicyOf, waveParams } from "./support/policy.ts"

const promptA = Array.from({ length: 37 }, (_, i) => 3 + ((i * 37) % 500))
const promptB = Array.from({ length: 20 }, (_, i) => 4 + ((i * 91) % 500))
const completion = (n: number, salt: number) => Array.from({ length: n }, (_, i) => 5 + ((i * 13 + salt * 29) % 400))
/** Eight rows of two prompts, four each, interleaved, completions of 1-9 tokens. */
const grouped: Array<TokenSequence> = [9, 3, 7, 1, 5, 8, 2, 6].map((n, i) => {
  const prompt = i % 2 === 0 ? promptA : promptB
  return { tokens: [...prompt, ...completion(n, i)], promptLength: prompt.length }
})
const lora = { rank: 2, alpha: 4, targets: ["q_proj", "v_proj"] as Array<LlamaProjection>, scale: 2 }
describe("shared prompts in policy programs", () => {
  it("share where it saves a quarter of the positions, and not for distinct prompts or full windows", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* smallPolicy
      const distinct = grouped.map((s, i) => ({ tokens: [i + 7, ...s.tokens.slice(1)], promptLength: s.promptLength }))
      return {
        shared: policyLayout(runtime, grouped, { sharePrompts: true }),
        unshared: policyLayout(runtime, grouped),
        distinct: policyLayout(runtime, distinct, { sharePrompts: true }),
        full: policyLayout(runtime, grouped, { sharePrompts: true, window: "full" })
      }
    }))
    // Two prompts of 37 and 20 tokens run as [2, 48] (their last token goes with the rows); the rows as [8, 16].
    expect(r.shared.shape).toEqual({ batch: 8, length: 16, window: 16, prompts: { count: 2, length: 48 } })
    expect(r.unshared.shape).toEqual({ batch: 8, length: 48, window: 16 })
    expect(r.distinct.shape.prompts).toBeUndefined()
    expect(r.full.shape.prompts).toBeUndefined()
    expect(r.shared.tokens).toBe(r.unshared.tokens)
    expect(Array.from(r.shared.feeds["prompt_row"]!.data as BigInt64Array)).toEqual([0n, 1n, 0n, 1n, 0n, 1n, 0n, 1n])
  }, 60_000)

  it("phi3's longrope: prompts are shared while every row fits the original context, not once one outgrows it (its prompt then rotates with the long factors)", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* smallPolicyOf("phi3", { original_max_position_embeddings: 48 })
      const rows = (n: number) => grouped.map((s, i) => ({ ...s, tokens: i === 0 ? [...s.tokens.slice(0, s.promptLength), ...completion(n, 0)] : s.tokens }))
      // The longest row: prompt A (37) and 9 or 12 completion tokens, 46 or 49 tokens.
      // Scoring the outgrowing rows asks to share and must give what the unshared layout gives (each row by its own length).
      const scored = (share: boolean) => scoreSequences(runtime, rows(12).map((s) => ({ ids: s.tokens, from: s.promptLength })), 8, undefined, share)
      return {
        beyond: runtime.frequencies.long?.beyond,
        fitting: sharedPromptBatch(runtime, rows(9), 48),
        outgrowing: sharedPromptBatch(runtime, rows(12), 64),
        scores: { shared: yield* scored(true), unshared: yield* scored(false) }
      }
    }))
    expect(r.beyond).toBe(48)
    expect(r.fitting?.prompts).toEqual({ count: 2, length: 48 })
    expect(maxRelative(r.scores.shared.flat(), r.scores.unshared.flat())).toBeLessThan(1e-5)
    expect(r.outgrowing).toBeUndefined()
  }, 60_000)

  it("give the unshared programs' heads, loss and gradients (float64 interpreter)", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { runtime, config } = yield* smallPolicy
      return { runtime, config, shared: policyLayout(runtime, grouped, { sharePrompts: true }), unshared: policyLayout(runtime, grouped) }
    }))
    expect(r.shared.shape.prompts).toBeDefined()
    const params = waveParams(r.config, lora)
    const lengths = grouped.map((s) => s.tokens.length - s.promptLength)
    const exact = (tensors: Record<string, HostTensor>) => Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, toFloat64(t)]))
    const run = (layout: typeof r.shared, kind: "evaluate" | "train" | "train checkpointed") => {
      const built = kind === "evaluate"
        ? { program: policyEvaluateProgram(r.config, layout.shape, lora, { values: true, entropy: true }), carry: [] }
        : policyAccumulateProgram(r.config, layout.shape, lora, ppoLike as Objective<string>, kind === "train checkpointed")
      const feeds: Record<string, HostTensor> = { ...layout.feeds, ...params }
      if (kind !== "evaluate") {
        feeds[policyNames.feed("advantages")] = placeFeed(layout, lengths.map((n, i) => Array.from({ length: n }, (_, k) => Math.cos(k + i))))
        feeds[policyNames.feed("oldLogprobs")] = placeFeed(layout, lengths.map((n) => Array.from({ length: n }, (_, k) => -6 + 0.1 * k)))
        feeds[policyNames.feed("returns")] = placeFeed(layout, lengths.map((n, i) => Array.from({ length: n }, (_, k) => 0.5 - 0.2 * k + 0.1 * i)))
      }
      for (const p of built.program.parameters) if (!p.trainable && feeds[p.name] === undefined) feeds[p.name] = r.runtime.weights[p.name]!
      for (const c of built.carry) feeds[c.input] = { dtype: "float32", shape: [...c.shape], data: new Float32Array(c.shape.reduce((a, b) => a * b, 1)) }
      return interpret(built.program, exact(feeds))
    }
    const sharedEval = run(r.shared, "evaluate")
    const unsharedEval = run(r.unshared, "evaluate")
    for (const head of ["logprobs", "entropy", "values"]) {
      grouped.forEach((_, i) => {
        const a = readRow(r.shared, sharedEval[head]!.data, i, lengths[i]!)
        const b = readRow(r.unshared, unsharedEval[head]!.data, i, lengths[i]!)
        expect(a).toHaveLength(lengths[i]!)
        expect(maxRelative(a, b), `${head} row ${i}`).toBeLessThan(1e-10)
      })
    }
    const unsharedTrain = run(r.unshared, "train")
    const grads = Object.keys(unsharedTrain).filter((n) => n.startsWith("next/accum/"))
    expect(grads.length).toBe(2 * 2 * 2 + 2)
    // With gradient checkpointing, both streams of a layer are one recomputed segment.
    for (const kind of ["train", "train checkpointed"] as const) {
      const sharedTrain = run(r.shared, kind)
      expect(sharedTrain["loss"]!.data[0], kind).toBeCloseTo(unsharedTrain["loss"]!.data[0]!, 12)
      for (const name of grads) {
        expect(Array.from(unsharedTrain[name]!.data).some((x) => x !== 0), name).toBe(true)
        expect(maxRelative(sharedTrain[name]!.data, unsharedTrain[name]!.data), `${kind} ${name}`).toBeLessThan(1e-10)
      }
    }
  }, 240_000)

  it("a session's evaluate and training step give the unshared session's results (onnxruntime)", async () => {
    const objective = ppoLike as Objective<string>
    const lengths = grouped.map((s) => s.tokens.length - s.promptLength)
    const feeds = {
      advantages: lengths.map((n, i) => Array.from({ length: n }, (_, k) => Math.cos(k + i))),
      oldLogprobs: lengths.map((n) => Array.from({ length: n }, () => -6)),
      returns: lengths.map((n) => Array.from({ length: n }, (_, k) => 0.3 * k))
    }
    const run = (sharePrompts: boolean) => Effect.gen(function* () {
      const { runtime, tokenizer } = yield* smallPolicy
      const policy = yield* makeLlamaPolicyModel({ runtime, tokenizer, id: "tiny-llama-512", contextLength: 64, eosIds: new Set([EOS]), maxBatch: 8, sharePrompts })
      const session = yield* policy.session({ lora: { rank: 4, alpha: 8, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj"] }, valueHead: true, seed: 3 })
      const before = yield* session.evaluate(grouped, { values: true, entropy: true })
      const stepped = yield* session.step(objective, grouped, feeds, { lr: 1e-2 })
      const after = yield* session.evaluate(grouped, { values: true })
      return { before, stepped, after }
    })
    const [shared, unshared] = await Promise.all([runScoped(run(true)), runScoped(run(false))])
    expect(shared.stepped.loss).toBeCloseTo(unshared.stepped.loss, 5)
    expect(shared.stepped.gradNorm).toBeCloseTo(unshared.stepped.gradNorm, 5)
    for (const [a, b] of [[shared.before, unshared.before], [shared.after, unshared.after]] as const) {
      a.forEach((row, i) => {
        expect(maxRelative(row.logprobs, b[i]!.logprobs), `row ${i}`).toBeLessThan(1e-4)
        expect(maxRelative(row.values!, b[i]!.values!), `row ${i}`).toBeLessThan(1e-4)
      })
    }
    // The step moved the policy: the comparison after it is not of two untouched models.
    expect(maxRelative(shared.after[0]!.logprobs, shared.before[0]!.logprobs)).toBeGreaterThan(1e-4)
  }, 180_000)

  // gemma3: the prompt stream reads its sliding layer's own rotary table (`prompt.cos_local`) and window mask too.
  it.each(["llama", "gemma3_text"] as const)("scoring (%s): continuations of one prompt (a judge's answers) share it and score as unshared (onnxruntime)", async (preset) => {
    // Four questions of 34-46 tokens, each with a one-token and a three-token answer: 8 rows of 64 columns unshared.
    const questions = [34, 46, 40, 37].map((n, q) => Array.from({ length: n }, (_, i) => 3 + ((i * 53 + q * 17) % 480)))
    const scored = questions.flatMap((ids, q) => [[7 + q], [9, 11 + q, 13]].map((answer) => ({ ids: [...ids, ...answer], from: ids.length })))
    const r = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* smallPolicyOf(preset)
      return {
        plan: sharedPromptBatch(runtime, scored.map((s) => ({ tokens: s.ids, promptLength: s.from })), 64),
        shared: yield* scoreSequences(runtime, scored, 8),
        unshared: yield* scoreSequences(runtime, scored, 8, undefined, false)
      }
    }))
    expect(r.plan?.prompts).toEqual({ count: 4, length: 48 })
    scored.forEach((s, i) => {
      expect(r.shared[i]).toHaveLength(s.ids.length - s.from)
      expect(maxRelative(r.shared[i]!, r.unshared[i]!), `sequence ${i}`).toBeLessThan(1e-5)
    })
  }, 120_000)
})
