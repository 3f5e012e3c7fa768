import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { mul, sum } from "@refine-af/tensor"
import { loraConfigFrom, nllObjective, type Objective, type PolicySession, type TokenSequence } from "@refine-af/training"
import { describe, expect, it } from "vitest"
import { adapterFeeds, programLora, readAdapter, scoreSequences } from "../src/index.ts"
import { runScoped } from "./support/runtime.ts"
import { EOS, ppoLike, smallPolicy, smallPolicyOf } from "./support/policy.ts"

const lora = { rank: 4, alpha: 8, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj", "down_proj"] }
const prompt = [1, 17, 93, 250]
const answer = [41, 300, 7, 120, EOS]
const sft: TokenSequence = { tokens: [...prompt, ...answer], promptLength: prompt.length }
const tmp = () => mkdtempSync(nodePath.join(tmpdir(), "llama-policy-"))

const ppoFeeds = (seqs: ReadonlyArray<TokenSequence>, old: ReadonlyArray<ReadonlyArray<number>>) => ({
  oldLogprobs: old,
  returns: seqs.map((s) => Array.from({ length: s.tokens.length - s.promptLength }, (_, k) => (k % 3) / 2)),
  advantages: seqs.map((s) => Array.from({ length: s.tokens.length - s.promptLength }, (_, k) => (k % 2 === 0 ? 1 : -0.5)))
})
const ppoStep = (session: PolicySession, seqs: ReadonlyArray<TokenSequence>) =>
  Effect.gen(function* () {
    const old = (yield* session.evaluate(seqs)).map((h) => h.logprobs)
    return yield* session.step(ppoLike, seqs, ppoFeeds(seqs, old), { lr: 0.01, clipGradNorm: 1 })
  })

describe("llama PolicyModel sessions (tiny llama, CPU)", () => {
  it("SFT on one answer: loss falls and greedy sampling reproduces it", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { policy } = yield* smallPolicy
      const session = yield* policy.session({ lora, seed: 1 })
      const losses: Array<number> = []
      for (let i = 0; i < 25; i++) losses.push((yield* session.step(nllObjective, [sft], {}, { lr: 0.02, clipGradNorm: 1 })).loss)
      const [sampled] = yield* session.sample([prompt], { maxNewTokens: 8, temperature: 0 })
      return { losses, sampled: sampled! }
    }))
    expect(r.losses[24]!).toBeLessThan(0.1 * r.losses[0]!)
    expect(r.sampled.completion).toEqual(answer)
    expect(r.sampled.finishReason).toBe("eos")
    expect(r.sampled.tokens).toEqual(sft.tokens)
  }, 120_000)

  it("reference = adapter off = the base scoring path; adapted = scoring with the exported adapter", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { policy, runtime, config } = yield* smallPolicy
      const session = yield* policy.session({ lora, seed: 2 })
      for (let i = 0; i < 3; i++) yield* session.step(nllObjective, [sft], {}, { lr: 0.02 })
      const dir = tmp()
      yield* session.exportAdapter(dir)
      const adapter = yield* readAdapter(dir, config)
      const base = yield* scoreSequences(runtime, [{ ids: sft.tokens, from: sft.promptLength }], 8)
      const adapted = yield* scoreSequences(runtime, [{ ids: sft.tokens, from: sft.promptLength }], 8, { lora: programLora(adapter), feeds: adapterFeeds(adapter) })
      return {
        reference: (yield* session.evaluate([sft], { reference: true }))[0]!.logprobs,
        trained: (yield* session.evaluate([sft]))[0]!.logprobs,
        base: base[0]!,
        adapted: adapted[0]!
      }
    }))
    r.reference.forEach((x, k) => expect(x).toBeCloseTo(r.base[k]!, 5))
    r.trained.forEach((x, k) => expect(x).toBeCloseTo(r.adapted[k]!, 5))
    expect(r.trained.reduce((a, b) => a + b, 0)).toBeGreaterThan(r.reference.reduce((a, b) => a + b, 0) + 1)
  }, 120_000)

  it("checkpoint → resume continues bitwise identically (dropout, value head, PPO-like objective, sampling)", async () => {
    const dir = tmp()
    const options = { lora: { ...lora, dropout: 0.1 }, seed: 3, valueHead: true }
    const seqs: Array<TokenSequence> = [sft, { tokens: [1, 5, 6, 7, 8, 9], promptLength: 3 }]
    const r = await runScoped(Effect.gen(function* () {
      const { policy } = yield* smallPolicy
      const a = yield* policy.session(options)
      const head = [(yield* ppoStep(a, seqs)).loss, (yield* ppoStep(a, seqs)).loss]
      yield* a.checkpoint(dir, { cursor: 2, kl: 0.05 })
      const straight = [...head, (yield* ppoStep(a, seqs)).loss, (yield* ppoStep(a, seqs)).loss]
      const sampleA = yield* a.sample([prompt, [1, 2, 3]], { maxNewTokens: 6, temperature: 1 })
      yield* a.exportAdapter(nodePath.join(dir, "a"))
      const b = yield* policy.session({ ...options, resumeFrom: dir })
      const resumed = [...head, (yield* ppoStep(b, seqs)).loss, (yield* ppoStep(b, seqs)).loss]
      const sampleB = yield* b.sample([prompt, [1, 2, 3]], { maxNewTokens: 6, temperature: 1 })
      yield* b.exportAdapter(nodePath.join(dir, "b"))
      const values = [(yield* a.evaluate(seqs, { values: true }))[1]!.values, (yield* b.evaluate(seqs, { values: true }))[1]!.values]
      return { straight, resumed, sampleA, sampleB, restored: b.restored, steps: b.steps(), values }
    }))
    expect(r.restored).toEqual({ step: 2, trainerState: { cursor: 2, kl: 0.05 } })
    expect(r.steps).toBe(4)
    expect(r.resumed).toEqual(r.straight)
    expect(r.sampleB).toEqual(r.sampleA)
    expect(r.values[1]).toEqual(r.values[0])
    expect(r.values[0]!.some((v) => v !== 0)).toBe(true)
    const bytes = (name: string) => readFileSync(nodePath.join(dir, name, "adapter_model.safetensors"))
    expect(bytes("b").equals(bytes("a"))).toBe(true)
  }, 120_000)

  it("gradient accumulation over equal-length micro-batches ≈ the whole batch", async () => {
    const seqs: Array<TokenSequence> = [sft, { tokens: [1, 9, 8, 7, 6, 5, 4, 3, 2], promptLength: 4 }]
    const r = await runScoped(Effect.gen(function* () {
      const { policy } = yield* smallPolicy
      const whole = yield* policy.session({ lora, seed: 4 })
      const micro = yield* policy.session({ lora, seed: 4 })
      const w = yield* whole.step(nllObjective, seqs, {}, { lr: 0.01, clipGradNorm: 0.5 })
      const m = yield* micro.step(nllObjective, seqs, {}, { lr: 0.01, clipGradNorm: 0.5, microBatchSize: 1 })
      return { w, m, after: [yield* whole.evaluate(seqs), yield* micro.evaluate(seqs)] }
    }))
    expect(r.m.loss).toBeCloseTo(r.w.loss, 5)
    expect(r.m.gradNorm).toBeCloseTo(r.w.gradNorm, 4)
    expect(r.m.tokens).toBe(10)
    r.after[1]!.forEach((h, i) => h.logprobs.forEach((x, k) => expect(x).toBeCloseTo(r.after[0]![i]!.logprobs[k]!, 4)))
  }, 120_000)

  it("token-weighted accumulation over micro-batches of different completion lengths = the whole batch; the default mean does not", async () => {
    // 7 and 2 completion tokens: the whole batch's token mean weights them 7:2, a mean of micro-batch means 1:1.
    const seqs: Array<TokenSequence> = [{ tokens: [1, 5, 9, 8, 7, 6, 5, 4, 3, 2], promptLength: 3 }, { tokens: [1, 9, 8, 7, 6], promptLength: 3 }]
    const r = await runScoped(Effect.gen(function* () {
      const { policy } = yield* smallPolicy
      const sessions = [yield* policy.session({ lora, seed: 4 }), yield* policy.session({ lora, seed: 4 }), yield* policy.session({ lora, seed: 4 })]
      const hyper = { lr: 0.01, clipGradNorm: 0.5 }
      const steps = [
        yield* sessions[0]!.step(nllObjective, seqs, {}, hyper),
        yield* sessions[1]!.step(nllObjective, seqs, {}, { ...hyper, microBatchSize: 1, accumulation: "tokens" }),
        yield* sessions[2]!.step(nllObjective, seqs, {}, { ...hyper, microBatchSize: 1 })
      ]
      const after = []
      for (const session of sessions) after.push(yield* session.evaluate(seqs))
      return { steps, after }
    }))
    const [whole, tokens, mean] = r.steps
    expect(tokens!.loss).toBeCloseTo(whole!.loss, 5)
    expect(tokens!.gradNorm).toBeCloseTo(whole!.gradNorm, 4)
    r.after[1]!.forEach((h, i) => h.logprobs.forEach((x, k) => expect(x).toBeCloseTo(r.after[0]![i]!.logprobs[k]!, 4)))
    expect(Math.abs(mean!.loss - whole!.loss)).toBeGreaterThan(1e-3)
  }, 120_000)

  it("errors: an unknown LoRA target is named; a NaN loss applies nothing", async () => {
    const nan: Objective<never> = { id: "nan", heads: [], feeds: [], loss: ({ logprobs, mask }) => mul(sum(mul(logprobs, mask)), Number.NaN) }
    const r = await runScoped(Effect.gen(function* () {
      const { policy } = yield* smallPolicy
      const unknown = yield* Effect.flip(policy.session({ lora: { ...lora, targets: ["q_proj", "c_attn"] }, seed: 1 }))
      const session = yield* policy.session({ lora, seed: 1 })
      yield* session.step(nllObjective, [sft], {}, { lr: 0.02 })
      const before = (yield* session.evaluate([sft]))[0]!.logprobs
      const failed = yield* Effect.flip(session.step(nan, [sft], {}, { lr: 0.02 }))
      const after = (yield* session.evaluate([sft]))[0]!.logprobs
      const overflow = yield* Effect.flip(session.evaluate([{ tokens: new Array(70).fill(5), promptLength: 3 }]))
      return { unknown, failed, before, after, steps: session.steps(), overflow }
    }))
    expect(r.unknown.reason).toBe("UnknownLoraTarget")
    expect(r.unknown.message).toContain("c_attn")
    expect(r.failed.reason).toBe("NonFinite")
    expect(r.after).toEqual(r.before)
    expect(r.steps).toBe(1)
    expect(r.overflow.reason).toBe("ContextOverflow")
  }, 120_000)

  it("phi3 lists its fused projections as LoRA targets, defaults to qkv_proj (exported as PEFT names it), and names q_proj as not one of them", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { policy } = yield* smallPolicyOf("phi3")
      const unknown = yield* Effect.flip(policy.session({ lora: { ...lora, targets: ["q_proj"] }, seed: 1 }))
      const session = yield* policy.session({ lora: loraConfigFrom({ rank: 4 }, policy.info), seed: 1 })
      const losses = [(yield* session.step(nllObjective, [sft], {}, { lr: 0.05 })).loss, (yield* session.step(nllObjective, [sft], {}, { lr: 0.05 })).loss]
      const dir = mkdtempSync(nodePath.join(tmpdir(), "phi3-adapter-"))
      yield* session.exportAdapter(dir)
      return { info: policy.info, unknown, losses, exported: JSON.parse(readFileSync(nodePath.join(dir, "adapter_config.json"), "utf8")) as { target_modules: Array<string> } }
    }))
    expect([r.info.loraTargets, r.info.defaultLoraTargets]).toEqual([["qkv_proj", "o_proj", "gate_up_proj", "down_proj"], ["qkv_proj"]])
    expect(r.unknown.reason).toBe("UnknownLoraTarget")
    expect(r.unknown.fix).toBe("use targets from qkv_proj, o_proj, gate_up_proj, down_proj")
    expect(r.exported.target_modules).toEqual(["qkv_proj"])
    expect(r.losses[1]!).toBeLessThan(r.losses[0]!)
  }, 120_000)
})
