import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect, Exit } from "effect"
import { div, exp, interpret, maximum, minimum, mul, neg, square, sub, sum, clip } from "@refine-af/tensor"
import { defaultLoraConfig, nllObjective, type Objective, type PolicyModelService, type TokenSequence } from "@refine-af/training"
import { describe, expect, it } from "vitest"
import { tableBos, tableEos, tablePolicyModel } from "../src/index.ts"
import { gradientProgram, inputNames, paramNames } from "../src/policy/table-program.ts"
import { makeRng } from "../src/policy/rng.ts"

const lora = { ...defaultLoraConfig, rank: 4, alpha: 8, targets: ["table"] }
const run = <A, E>(effect: Effect.Effect<A, E, any>) => Effect.runPromise(Effect.scoped(effect) as Effect.Effect<A, E>)
const runExit = <A, E>(effect: Effect.Effect<A, E, any>) => Effect.runPromiseExit(Effect.scoped(effect) as Effect.Effect<A, E>)
const tmp = () => mkdtempSync(path.join(tmpdir(), "table-policy-"))

const sequence = (model: PolicyModelService, prompt: string, answer: string) =>
  Effect.gen(function* () {
    const p = yield* model.encode(prompt)
    const a = yield* model.encode(answer)
    return { tokens: [tableBos, ...p, ...a, tableEos], promptLength: 1 + p.length } satisfies TokenSequence
  })

/** PPO-style clipped surrogate + value MSE + entropy bonus: exercises every head and feed. */
const ppoLike: Objective<"advantages" | "oldLogprobs" | "returns"> = {
  id: "test-ppo-like",
  heads: ["values", "entropy"],
  feeds: ["advantages", "oldLogprobs", "returns"],
  loss: ({ logprobs, values, entropy, mask }, { advantages, oldLogprobs, returns }) => {
    const n = maximum(sum(mask), 1)
    const ratio = exp(sub(logprobs, oldLogprobs))
    const surrogate = minimum(mul(ratio, advantages), mul(clip(ratio, 0.8, 1.2), advantages))
    const policy = neg(div(sum(mul(surrogate, mask)), n))
    const value = div(sum(mul(square(sub(values!, returns)), mask)), n)
    return sub(sub(policy, mul(value, -0.5)), mul(div(sum(mul(entropy!, mask)), n), 0.01))
  },
  metrics: ({ logprobs, mask }, { oldLogprobs }) => ({ approxKl: div(sum(mul(sub(oldLogprobs, logprobs), mask)), maximum(sum(mask), 1)) })
}

describe("table policy: objective gradients", () => {
  it("match central finite differences of the same program (float64)", () => {
    const shape = { vocab: 6, rank: 2, scale: 1.5, batch: 2, positions: 4 }
    const { program, trainable } = gradientProgram(ppoLike as Objective<string>, shape, false)
    expect(trainable).toEqual([paramNames.a, paramNames.b, paramNames.value, paramNames.valueBias])
    const rng = makeRng(11)
    const rand = (n: number, s = 1) => Float64Array.from({ length: n }, () => rng.normal() * s)
    const feeds: Record<string, Float64Array> = {
      [paramNames.table]: rand(36),
      [paramNames.a]: rand(12, 0.5),
      [paramNames.b]: rand(12, 0.5),
      [paramNames.value]: rand(6),
      [paramNames.valueBias]: rand(1),
      [inputNames.prev]: Float64Array.from([1, 2, 3, 4, 5, 0, 1, 0]),
      [inputNames.target]: Float64Array.from([2, 3, 4, 5, 0, 1, 1, 0]),
      [inputNames.mask]: Float64Array.from([1, 1, 1, 0, 1, 1, 0, 0]),
      [inputNames.feed("advantages")]: rand(8),
      [inputNames.feed("oldLogprobs")]: rand(8, 0.3).map((x) => x - 1.5),
      [inputNames.feed("returns")]: rand(8)
    }
    const out = interpret(program, feeds)
    const loss = (f: Record<string, Float64Array>) => interpret(program, f).loss!.data[0]!
    let checked = 0
    for (const name of trainable) {
      const analytic = out[`grad/${name}`]!.data
      for (let i = 0; i < analytic.length; i++) {
        const h = 1e-5
        const plus = { ...feeds, [name]: feeds[name]!.slice() }
        const minus = { ...feeds, [name]: feeds[name]!.slice() }
        plus[name]![i]! += h
        minus[name]![i]! -= h
        const numeric = (loss(plus) - loss(minus)) / (2 * h)
        expect(Math.abs(numeric - analytic[i]!)).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)))
        checked++
      }
    }
    expect(checked).toBe(12 + 12 + 6 + 1)
    expect(Number.isFinite(out["metric/approxKl"]!.data[0]!)).toBe(true)
  })
})

describe("table policy: sessions", () => {
  const model = tablePolicyModel({ seed: 5 })

  it("SFT: loss falls (bigram-learnable answer) and the trained answer comes back greedily (sample and lm)", async () => {
    const result = await run(
      Effect.gen(function* () {
        const session = yield* model.session({ lora, seed: 1 })
        const seq = yield* sequence(model, "q:", "world")
        const before = yield* session.sample([seq.tokens.slice(0, seq.promptLength)], { maxNewTokens: 8, temperature: 0 })
        const losses: Array<number> = []
        for (let i = 0; i < 60; i++) losses.push((yield* session.step(nllObjective, [seq], {}, { lr: 0.05, clipGradNorm: 5 })).loss)
        const after = yield* session.sample([seq.tokens.slice(0, seq.promptLength)], { maxNewTokens: 8, temperature: 0 })
        const [viaLm] = yield* session.lm.generate([{ prompt: "q:", params: { maxNewTokens: 8, temperature: 0 } }])
        return { losses, before: before[0]!, after: after[0]!, viaLm: viaLm!, steps: session.steps() }
      })
    )
    expect(result.losses[59]!).toBeLessThan(0.05 * result.losses[0]!)
    expect(result.before.text).not.toBe("world")
    expect(result.after.text).toBe("world")
    expect(result.after.finishReason).toBe("eos")
    expect(result.viaLm.text).toBe("world")
    expect(result.steps).toBe(60)
  })

  it("reference evaluation = adapter off: equals a fresh session, differs from the trained one", async () => {
    const { trained, reference, fresh } = await run(
      Effect.gen(function* () {
        const seq = yield* sequence(model, "a", "bcd")
        const session = yield* model.session({ lora, seed: 2 })
        for (let i = 0; i < 5; i++) yield* session.step(nllObjective, [seq], {}, { lr: 0.1 })
        const freshSession = yield* model.session({ lora, seed: 99 })
        return {
          trained: (yield* session.evaluate([seq]))[0]!.logprobs,
          reference: (yield* session.evaluate([seq], { reference: true }))[0]!.logprobs,
          fresh: (yield* freshSession.evaluate([seq]))[0]!.logprobs
        }
      })
    )
    expect(reference).toEqual(fresh)
    expect(reference.length).toBe(4)
    expect(trained.every((x, i) => x > reference[i]!)).toBe(true)
  })

  it("checkpoint → resume continues bitwise identically (dropout, value head, trainer state)", async () => {
    const options = { lora: { ...lora, dropout: 0.3 }, seed: 4, valueHead: true }
    const dir = tmp()
    const stepAll = (session: any, seqs: Array<TokenSequence>, n: number) =>
      Effect.gen(function* () {
        const losses: Array<number> = []
        for (let i = 0; i < n; i++) {
          const returns = seqs.map((s) => Array.from({ length: s.tokens.length - s.promptLength }, (_, k) => k / 3))
          const old = (yield* session.evaluate(seqs)).map((h: any) => h.logprobs)
          const advantages = returns.map((r) => r.map((x) => x - 0.4))
          losses.push((yield* session.step(ppoLike, seqs, { advantages, oldLogprobs: old, returns }, { lr: 0.05, clipGradNorm: 1 })).loss)
        }
        return losses
      })
    const { straight, resumed, restored } = await run(
      Effect.gen(function* () {
        const seqs = [yield* sequence(model, "x", "abc"), yield* sequence(model, "yz", "q")]
        const a = yield* model.session(options)
        const first = yield* stepAll(a, seqs, 3)
        yield* a.checkpoint(dir, { cursor: 3 })
        const straight = [...first, ...(yield* stepAll(a, seqs, 3))]
        const sampleA = yield* a.sample([[tableBos]], { maxNewTokens: 6, temperature: 1 })
        yield* a.exportAdapter(path.join(dir, "a"))
        const b = yield* model.session({ ...options, resumeFrom: dir })
        const resumed = [...first, ...(yield* stepAll(b, seqs, 3))]
        const sampleB = yield* b.sample([[tableBos]], { maxNewTokens: 6, temperature: 1 })
        yield* b.exportAdapter(path.join(dir, "b"))
        expect(sampleB).toEqual(sampleA)
        return { straight, resumed, restored: b.restored }
      })
    )
    expect(restored).toEqual({ step: 3, trainerState: { cursor: 3 } })
    expect(resumed).toEqual(straight)
    expect(readFileSync(path.join(dir, "b", "adapter_model.safetensors")).equals(readFileSync(path.join(dir, "a", "adapter_model.safetensors")))).toBe(true)
  })

  it("gradient accumulation over equal-length micro-batches equals the full batch", async () => {
    const { whole, micro } = await run(
      Effect.gen(function* () {
        const seqs = [yield* sequence(model, "ab", "cd"), yield* sequence(model, "ef", "gh")]
        const s1 = yield* model.session({ lora, seed: 8 })
        const s2 = yield* model.session({ lora, seed: 8 })
        const r1 = yield* s1.step(nllObjective, seqs, {}, { lr: 0.1 })
        const r2 = yield* s2.step(nllObjective, seqs, {}, { lr: 0.1, microBatchSize: 1 })
        return { whole: { r: r1, h: yield* s1.evaluate(seqs) }, micro: { r: r2, h: yield* s2.evaluate(seqs) } }
      })
    )
    expect(micro.r.loss).toBeCloseTo(whole.r.loss, 12)
    expect(micro.r.gradNorm).toBeCloseTo(whole.r.gradNorm, 12)
    micro.h.forEach((h, i) => h.logprobs.forEach((x, k) => expect(x).toBeCloseTo(whole.h[i]!.logprobs[k]!, 10)))
    expect(whole.r.tokens).toBe(6)
  })

  it("token-weighted accumulation over micro-batches of different completion lengths = the whole batch; the default mean weights them equally", async () => {
    const { whole, tokens, mean } = await run(
      Effect.gen(function* () {
        const seqs = [yield* sequence(model, "ab", "cdefg"), yield* sequence(model, "ef", "g")]
        const sessions = [yield* model.session({ lora, seed: 8 }), yield* model.session({ lora, seed: 8 }), yield* model.session({ lora, seed: 8 })]
        const r1 = yield* sessions[0]!.step(nllObjective, seqs, {}, { lr: 0.1 })
        const r2 = yield* sessions[1]!.step(nllObjective, seqs, {}, { lr: 0.1, microBatchSize: 1, accumulation: "tokens" })
        const r3 = yield* sessions[2]!.step(nllObjective, seqs, {}, { lr: 0.1, microBatchSize: 1 })
        return { whole: { r: r1, h: yield* sessions[0]!.evaluate(seqs) }, tokens: { r: r2, h: yield* sessions[1]!.evaluate(seqs) }, mean: { r: r3 } }
      })
    )
    expect(tokens.r.loss).toBeCloseTo(whole.r.loss, 12)
    expect(tokens.r.gradNorm).toBeCloseTo(whole.r.gradNorm, 12)
    tokens.h.forEach((h, i) => h.logprobs.forEach((x, k) => expect(x).toBeCloseTo(whole.h[i]!.logprobs[k]!, 10)))
    expect(Math.abs(mean.r.loss - whole.r.loss)).toBeGreaterThan(1e-6)
  })

  it("sequence-weighted accumulation with a smaller last micro-batch = the whole batch for a mean over sequences; the default mean does not", async () => {
    // Three sequences of equal length: the token mean is the sequence mean. Micro-batches of 2 and 1.
    const { whole, sequences, mean } = await run(
      Effect.gen(function* () {
        const seqs = [yield* sequence(model, "ab", "cd"), yield* sequence(model, "ef", "gh"), yield* sequence(model, "ba", "dc")]
        const sessions = [yield* model.session({ lora, seed: 8 }), yield* model.session({ lora, seed: 8 }), yield* model.session({ lora, seed: 8 })]
        const r1 = yield* sessions[0]!.step(nllObjective, seqs, {}, { lr: 0.1 })
        const r2 = yield* sessions[1]!.step(nllObjective, seqs, {}, { lr: 0.1, microBatchSize: 2, accumulation: "sequences" })
        const r3 = yield* sessions[2]!.step(nllObjective, seqs, {}, { lr: 0.1, microBatchSize: 2 })
        return { whole: r1, sequences: r2, mean: r3 }
      })
    )
    expect(sequences.loss).toBeCloseTo(whole.loss, 12)
    expect(sequences.gradNorm).toBeCloseTo(whole.gradNorm, 12)
    expect(Math.abs(mean.loss - whole.loss)).toBeGreaterThan(1e-6)
  })

  it("value head regresses to the returns feed", async () => {
    const mse: Objective<"returns"> = {
      id: "test-value-mse",
      heads: ["values"],
      feeds: ["returns"],
      loss: ({ values, mask }, { returns }) => div(sum(mul(square(sub(values!, returns)), mask)), maximum(sum(mask), 1))
    }
    const values = await run(
      Effect.gen(function* () {
        const seq = yield* sequence(model, "a", "bc")
        const session = yield* model.session({ lora, seed: 3, valueHead: true })
        for (let i = 0; i < 300; i++) yield* session.step(mse, [seq], { returns: [[1, -2, 0.5]] }, { lr: 0.05 })
        return (yield* session.evaluate([seq], { values: true }))[0]!.values!
      })
    )
    ;[1, -2, 0.5].forEach((r, i) => expect(values[i]!).toBeCloseTo(r, 2))
  })
})

describe("table policy: errors", () => {
  const model = tablePolicyModel({ seed: 5, contextLength: 8 })
  const failure = async (effect: Effect.Effect<unknown, any, any>) => {
    const exit = await runExit(effect)
    if (!Exit.isFailure(exit)) throw new Error("expected a failure")
    return JSON.stringify(exit.cause)
  }
  const seq: TokenSequence = { tokens: [1, 2, 3, 0], promptLength: 1 }

  it("names an unknown LoRA target", async () => {
    expect(await failure(model.session({ lora: { ...lora, targets: ["q_proj"] }, seed: 1 }))).toMatch(/UnknownLoraTarget.*q_proj/)
  })
  it("rejects heads the session lacks, missing and mis-sized feeds, too long sequences", async () => {
    const returns: Objective<"returns"> = { id: "r", heads: ["values"], feeds: ["returns"], loss: ({ values, mask }, { returns }) => sum(mul(sub(values!, returns), mask)) }
    const session = (valueHead: boolean) => model.session({ lora, seed: 1, valueHead })
    expect(await failure(Effect.flatMap(session(false), (s) => s.step(returns, [seq], { returns: [[0, 0, 0]] }, { lr: 1 })))).toMatch(/valueHead: true/)
    expect(await failure(Effect.flatMap(session(true), (s) => s.step(returns, [seq], {} as never, { lr: 1 })))).toMatch(/feed \\"returns\\" is missing/)
    expect(await failure(Effect.flatMap(session(true), (s) => s.step(returns, [seq], { returns: [[0, 0]] }, { lr: 1 })))).toMatch(/row 0 has 2 values, sequence 0 has 3/)
    expect(await failure(Effect.flatMap(session(true), (s) => s.evaluate([{ tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9], promptLength: 2 }])))).toMatch(/ContextOverflow.*9 tokens exceed/)
  })
  it("a NaN loss fails with NonFinite and leaves the weights untouched", async () => {
    const nan: Objective<never> = { id: "nan", heads: [], feeds: [], loss: ({ logprobs, mask }) => mul(sum(mul(logprobs, mask)), Number.NaN) }
    const { message, before, after } = await run(
      Effect.gen(function* () {
        const s = yield* model.session({ lora, seed: 1 })
        yield* s.step(nllObjective, [seq], {}, { lr: 0.1 })
        const before = (yield* s.evaluate([seq]))[0]!.logprobs
        const message = yield* Effect.flip(s.step(nan, [seq], {}, { lr: 0.1 }))
        return { message: message.message, reason: message.reason, before, after: (yield* s.evaluate([seq]))[0]!.logprobs }
      })
    )
    expect(message).toMatch(/loss NaN.*not applied/)
    expect(after).toEqual(before)
  })
})
