/**
 * Heads of the shipped trunk, through the float64 interpreter on a tiny
 * random decoder: each head against a plain-loop reference computed from the
 * program's own logits / final hidden state, the sequence-score pick rule of
 * `LlamaForSequenceClassification` under left, right and inner padding, and
 * gradients of the value head and LoRA (sliding-window layers) against
 * finite differences.
 */
import * as T from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import {
  buildHeads,
  chunkedTokenStats,
  maskedCrossEntropy,
  maskedMeanNll,
  stepNames,
  targetLogprobs,
  headNames,
  lastLogitStats,
  lastTokenIndex,
  llamaTrunk,
  lmLogits,
  makeStepFeeds,
  parseLlamaConfig,
  ropeFrequencies,
  tokenEntropy,
  valueHead,
  type LlamaConfig,
  type RowStep
} from "../src/index.ts"
import { interpreterFeeds } from "./support/golden-trunk.ts"

const PAD = 0
const config: LlamaConfig = Effect.runSync(parseLlamaConfig("tiny-mistral", {
  model_type: "mistral",
  vocab_size: 11,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 4,
  sliding_window: 3,
  pad_token_id: PAD,
  tie_word_embeddings: false
}))
const frequencies = ropeFrequencies(config.ropeScaling, config.ropeTheta, config.headDim, config.maxPositionEmbeddings, 8)

const rng = new T.Rng(7)
const randoms = (n: number, scale = 0.5) => Float64Array.from({ length: n }, () => rng.uniform(-scale, scale))
const weightsFor = (program: T.Program): Record<string, Float64Array> =>
  Object.fromEntries(program.parameters.map((p) => {
    const size = T.sizeOf(program.nodes[p.id]!.shape)
    return [p.name, p.name.includes("norm") ? Float64Array.from(randoms(size, 0.1), (v) => 1 + v) : randoms(size)]
  }))

/** A row of real tokens placed at `slots` (true = real) of a length-`length` row; padding elsewhere. */
const paddedRow = (tokens: ReadonlyArray<number>, slots: ReadonlyArray<boolean>): RowStep => {
  let next = 0
  let position = 0
  const ids: Array<number> = []
  const positions: Array<number> = []
  for (const real of slots) {
    ids.push(real ? tokens[next++]! : PAD)
    positions.push(real ? position++ : -1)
  }
  return { tokens: ids, positions, cachePositions: [] }
}

const rows = [
  paddedRow([3, 5, 7, 2], [false, false, true, true, true, true]), // left padded
  paddedRow([4, 9, 1], [true, true, true, false, false, false]), // right padded
  paddedRow([6, 8, 10, 5, 2, 3], [true, true, true, true, true, true]) // full
]
const shape = { batch: 3, length: 6, cache: 0 }

const logSoftmax = (row: ArrayLike<number>) => {
  const m = Math.max(...Array.from(row))
  const z = Math.log(Array.from(row).reduce((a, v) => a + Math.exp(v - m), 0)) + m
  return Array.from(row, (v) => v - z)
}

describe("heads of the Llama trunk", () => {
  it("logprobs, entropy, values and scores agree with plain-loop references from the same forward", () => {
    const targets = rows.flatMap((r) => r.tokens.map((t) => (t * 3 + 1) % config.vocabSize))
    const { graph, trunk } = buildHeads(config, { batch: shape.batch, length: shape.length }, {
      logits: "all",
      logprobs: true,
      entropy: true,
      values: true,
      score: { labels: 2, padTokenId: PAD }
    })
    graph.output("hidden", trunk.hidden)
    const program = graph.build()
    const weights = weightsFor(program)
    const out = T.interpret(program, { ...interpreterFeeds(makeStepFeeds(config, frequencies, shape, rows, PAD)), targets, ...weights })
    const V = config.vocabSize
    const E = config.hiddenSize
    const logits = out["logits"]!.data
    const hidden = out["hidden"]!.data
    for (let i = 0; i < shape.batch * shape.length; i++) {
      const logp = logSoftmax(logits.subarray(i * V, (i + 1) * V))
      expect(out["logprobs"]!.data[i]).toBeCloseTo(logp[targets[i]!]!, 12)
      expect(out["entropy"]!.data[i]).toBeCloseTo(-logp.reduce((a, l) => a + Math.exp(l) * l, 0), 12)
      let value = weights[headNames.valueBias]![0]!
      for (let e = 0; e < E; e++) value += hidden[i * E + e]! * weights[headNames.valueWeight]![e]!
      expect(out["values"]!.data[i]).toBeCloseTo(value, 12)
    }
    // HF: the last position whose id is not the pad id (positions 5, 2, 5 here).
    const picked = rows.map((r) => r.tokens.reduce((last, id, i) => (id !== PAD ? i : last), 0))
    expect(picked).toEqual([5, 2, 5])
    rows.forEach((_, b) => {
      for (let label = 0; label < 2; label++) {
        let score = 0
        for (let e = 0; e < E; e++) score += hidden[(b * shape.length + picked[b]!) * E + e]! * weights[headNames.score]![label * E + e]!
        expect(out["scores"]!.data[b * 2 + label]).toBeCloseTo(score, 12)
      }
    })
    // Entropy is at most log(V) and positive for a non-degenerate distribution.
    for (const h of out["entropy"]!.data) expect(h > 0 && h <= Math.log(V) + 1e-12).toBe(true)
  })

  it("lastLogitStats: the first maximum's index, the maximum and the log-sum-exp per row, under ties and -Infinity", () => {
    const NI = -Infinity
    const rowsOf = [
      [1, 3, 3, 2, NI, 0, 3], // ties: the first 3 wins
      [0.25, -1, 0.75, 0.5, 0.125, -2, 0.7], // distinct
      [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], // all equal: index 0
      [NI, NI, 2, NI, 2, NI, NI], // maxima behind -Infinity
      [NI, NI, NI, NI, NI, NI, 4] // the last entry
    ]
    const g = new T.Graph()
    const stats = lastLogitStats(g.input("logits", "float32", [rowsOf.length, 7]))
    g.output("argmax", stats.argmax)
    g.output("max", stats.maxLogit)
    g.output("lse", stats.logsumexp)
    const out = T.interpret(g.build(), { logits: rowsOf.flat() })
    rowsOf.forEach((row, b) => {
      let first = 0
      for (let i = 1; i < row.length; i++) if (row[i]! > row[first]!) first = i
      expect(out["argmax"]!.data[b]).toBe(first)
      expect(out["max"]!.data[b]).toBe(row[first])
      const m = Math.max(...row)
      expect(out["lse"]!.data[b]).toBeCloseTo(m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)), 12)
    })
    expect(Array.from(out["argmax"]!.data)).toEqual([1, 2, 0, 2, 6])
  })

  it("picks the last non-pad token even with padding inside a row, and the last position without a pad id", () => {
    const inner = [paddedRow([3, 4, 5], [true, false, true, true, false, false]), paddedRow([2], [false, false, false, false, false, true])]
    const trunk = llamaTrunk(config, { batch: 2, length: 6, cache: 0 })
    trunk.graph.output("index", lastTokenIndex(trunk, PAD))
    trunk.graph.output("noPad", lastTokenIndex(trunk, null))
    const program = trunk.graph.build()
    const out = T.interpret(program, { ...interpreterFeeds(makeStepFeeds(config, frequencies, { batch: 2, length: 6, cache: 0 }, inner, PAD)), ...weightsFor(program) })
    expect(Array.from(out["index"]!.data)).toEqual([3, 5])
    expect(Array.from(out["noPad"]!.data)).toEqual([5, 5])
  })

  it("value head and LoRA gradients through sliding-window layers match finite differences", () => {
    const lora = { rank: 2, alpha: 4, targets: ["q_proj", "v_proj", "down_proj"] as const }
    const trunk = llamaTrunk(config, shape, { lora, dtype: "float64" })
    const values = valueHead(trunk)
    const entropy = tokenEntropy(lmLogits(trunk, "all"))
    const proj = trunk.input("proj", "float64", [shape.batch, shape.length])
    trunk.graph.output("loss", T.add(T.sum(T.mul(values, proj)), T.sum(T.mul(entropy, proj))))
    const base = trunk.graph.build()
    const trainable = base.parameters.filter((p) => p.trainable).map((p) => p.name).sort()
    expect(trainable).toEqual([
      ...[0, 1].flatMap((l) => ["mlp.down_proj", "self_attn.q_proj", "self_attn.v_proj"].flatMap((m) => [`model.layers.${l}.${m}.lora_A.weight`, `model.layers.${l}.${m}.lora_B.weight`])),
      headNames.valueBias,
      headNames.valueWeight
    ].sort())
    const feeds: Record<string, ArrayLike<number>> = {
      ...interpreterFeeds(makeStepFeeds(config, frequencies, shape, rows, PAD)),
      proj: randoms(shape.batch * shape.length, 1),
      ...weightsFor(base)
    }
    const withGrads = T.grad(base, "loss")
    const got = T.interpret(withGrads, feeds)
    const h = 1e-5
    for (const name of [headNames.valueWeight, headNames.valueBias, "model.layers.1.self_attn.q_proj.lora_B.weight", "model.layers.0.mlp.down_proj.lora_A.weight"]) {
      const data = Float64Array.from(feeds[name]!)
      const numeric = data.map((_, i) => {
        const at = (d: number) => {
          const moved = data.slice()
          moved[i] = moved[i]! + d
          return T.interpret(base, { ...feeds, [name]: moved })["loss"]!.data[0]!
        }
        return (at(h) - at(-h)) / (2 * h)
      })
      expect(T.relativeError(got[T.gradName(name)]!.data, numeric), name).toBeLessThan(1e-6)
    }
  })

  it("a chunked LM head (forward only: evaluation, scoring) gives the logprobs and entropy of the whole one", () => {
    const trunk = llamaTrunk(config, shape, { dtype: "float64" })
    const logits = lmLogits(trunk, "all")
    trunk.graph.output("logprobs", targetLogprobs(trunk, logits))
    trunk.graph.output("entropy", tokenEntropy(logits))
    // Chunks of 4 positions over 6: two, the last one short; no segments without recompute.
    const chunked = chunkedTokenStats(trunk, { logprobs: true, entropy: true }, 4)
    trunk.graph.output("chunked_logprobs", chunked.logprobs!)
    trunk.graph.output("chunked_entropy", chunked.entropy!)
    expect(trunk.graph.checkpointSegments()).toHaveLength(0)
    const program = trunk.graph.build()
    const out = T.interpret(program, { ...interpreterFeeds(makeStepFeeds(config, frequencies, shape, rows, PAD)), [stepNames.targets]: rows.flatMap((r) => [...r.tokens.slice(1), 0]), ...weightsFor(program) })
    expect(Array.from(out["chunked_logprobs"]!.data)).toEqual(Array.from(out["logprobs"]!.data))
    expect(Array.from(out["chunked_entropy"]!.data)).toEqual(Array.from(out["entropy"]!.data))
  })

  it("checkpointed layers and a chunked LM head (gradient checkpointing) give the heads, loss and LoRA gradients of the plain trunk", () => {
    const lora = { rank: 2, alpha: 4, targets: ["q_proj", "v_proj", "down_proj"] as const, dropout: true }
    const build = (checkpointLayers: boolean) => {
      const trunk = llamaTrunk(config, shape, { lora, dtype: "float64", checkpointLayers })
      const proj = trunk.input("proj", "float64", [shape.batch, shape.length])
      // Checkpointed: the head in chunks of 4 positions (two segments over 6, the last one short).
      const logits = checkpointLayers ? undefined : lmLogits(trunk, "all")
      const stats = logits === undefined ? chunkedTokenStats(trunk, { logprobs: true, entropy: true, recompute: true }, 4) : { logprobs: targetLogprobs(trunk, logits), entropy: tokenEntropy(logits) }
      trunk.graph.output("logprobs", stats.logprobs!)
      trunk.graph.output("entropy", stats.entropy!)
      const loss = T.add(T.sum(T.mul(stats.entropy!, proj)), logits === undefined ? maskedMeanNll(trunk, stats.logprobs!) : maskedCrossEntropy(trunk, logits))
      const g = trunk.graph
      const trainable = g.parameterList().filter((p) => p.trainable)
      const grads = T.gradients(loss, trainable.map((p) => g.tensor(p.id)))
      g.output("loss", loss)
      trainable.forEach((p, i) => g.output(T.gradName(p.name), grads[i]!))
      return { program: T.eliminateDeadCode(g.build()), segments: g.checkpointSegments().length }
    }
    const plain = build(false)
    const checkpointed = build(true)
    expect(plain.segments).toBe(0)
    expect(checkpointed.segments).toBe(config.numLayers + 2)
    const softmaxes = (p: T.Program) => p.nodes.filter((n) => n.op === "Softmax").length
    // Each layer's attention is computed again in the backward pass.
    expect(softmaxes(checkpointed.program) - softmaxes(plain.program)).toBe(config.numLayers)
    const feeds: Record<string, ArrayLike<number>> = {
      ...interpreterFeeds(makeStepFeeds(config, frequencies, shape, rows, PAD)),
      proj: randoms(shape.batch * shape.length, 1),
      [stepNames.targets]: rows.flatMap((r) => [...r.tokens.slice(1), 0]),
      [stepNames.lossMask]: rows.flatMap((r) => r.positions.map((p) => (p >= 0 ? 1 : 0))),
      ...weightsFor(plain.program)
    }
    for (const input of plain.program.inputs) if (input.name.startsWith("lora_dropout.")) feeds[input.name] = Float64Array.from({ length: T.sizeOf(plain.program.nodes[input.id]!.shape) }, () => (rng.uniform(0, 1) < 0.25 ? 0 : 4 / 3))
    const want = T.interpret(plain.program, feeds)
    const got = T.interpret(checkpointed.program, feeds)
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort())
    // Values match to rounding (the recomputed pieces sum their gradients in another order).
    for (const name of Object.keys(want)) expect(T.relativeError(got[name]!.data, want[name]!.data), name).toBeLessThan(1e-12)
  })
})
