/**
 * GPT-NeoX as a tensor program with Hugging Face weight names: LayerNorm with
 * bias, fused per-head query_key_value, partial rotary (the first
 * `rotaryDims` of each head), parallel (Pythia) or sequential residuals, and a
 * pooled head on the last real token of each row — OpenAssistant's
 * `GPTNeoXRewardModel` (`out_proj`, with bias) or transformers'
 * `GPTNeoXForSequenceClassification` (`score`, no bias).
 *
 * Rows are right-padded: with a causal mask a real token never sees the
 * padding after it, so no key mask is needed; `pool` [batch, seq] is the
 * one-hot of each row's last real token.
 *
 * @example
 * ```ts
 * import { gptNeoXScoreProgram, parseGptNeoXConfig } from "@refine-af/models"
 * const c = parseGptNeoXConfig({ hidden_size: 32, num_attention_heads: 4, num_hidden_layers: 1, intermediate_size: 64, vocab_size: 50 }, "tiny")
 * const program = gptNeoXScoreProgram(c, { kind: "reward" }, { batch: 2, seq: 8 }, "float32")
 * ```
 */
import {
  add, applyLinear, applyRotary, attentionBias, causalMask, concat, embedding, gelu, Graph, linearParams, matmul, mean, mul, reshape,
  rotaryTables, rsqrt, scaledDotProductAttention, slice, square, sub, transpose, unsqueeze,
  type DType, type LinearParams, type Program, type Tensor
} from "@refine-af/tensor"
import type { GptNeoXConfig } from "./config.ts"

/** Which pooled head sits on the trunk. */
export type GptNeoXHead =
  | { readonly kind: "reward" } // OASST: out_proj [1, hidden] + bias
  | { readonly kind: "classifier"; readonly labels: number } // HF: score [labels, hidden], no bias

/** LayerNorm over the last axis with weight and bias (torch semantics, biased variance). */
export const layerNorm = (x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor => {
  const centred = sub(x, mean(x, -1, true))
  return add(mul(mul(centred, rsqrt(add(mean(square(centred), -1, true), eps))), weight), bias)
}

const norm = (g: Graph, name: string, c: GptNeoXConfig, dtype: DType) => ({
  weight: g.parameter(`${name}.weight`, dtype, [c.hiddenSize]),
  bias: g.parameter(`${name}.bias`, dtype, [c.hiddenSize])
})

const linear = (g: Graph, name: string, inF: number, outF: number, dtype: DType): LinearParams =>
  linearParams(g, name, inF, outF, { dtype, bias: true, trainable: false })

const rotate = (x: Tensor, c: GptNeoXConfig, rope: { cos: Tensor; sin: Tensor }): Tensor => {
  if (c.rotaryDims === 0) return x
  const turned = applyRotary(slice(x, [{ axis: -1, start: 0, end: c.rotaryDims }]), rope.cos, rope.sin)
  if (c.rotaryDims === c.headDim) return turned
  return concat([turned, slice(x, [{ axis: -1, start: c.rotaryDims, end: c.headDim }])], -1)
}

const attention = (g: Graph, x: Tensor, p: string, c: GptNeoXConfig, rope: { cos: Tensor; sin: Tensor }, mask: Tensor, dtype: DType): Tensor => {
  const [b, s] = x.shape as [number, number, number]
  const qkv = reshape(applyLinear(x, linear(g, `${p}.query_key_value`, c.hiddenSize, 3 * c.hiddenSize, dtype)), [b, s, c.numHeads, 3 * c.headDim])
  const part = (k: number) => transpose(slice(qkv, [{ axis: -1, start: k * c.headDim, end: (k + 1) * c.headDim }]), [0, 2, 1, 3])
  const out = scaledDotProductAttention(rotate(part(0), c, rope), rotate(part(1), c, rope), part(2), mask)
  return applyLinear(reshape(transpose(out, [0, 2, 1, 3]), [b, s, c.hiddenSize]), linear(g, `${p}.dense`, c.hiddenSize, c.hiddenSize, dtype))
}

const mlp = (g: Graph, x: Tensor, p: string, c: GptNeoXConfig, dtype: DType): Tensor =>
  applyLinear(
    gelu(applyLinear(x, linear(g, `${p}.dense_h_to_4h`, c.hiddenSize, c.intermediateSize, dtype)), c.geluApproximate),
    linear(g, `${p}.dense_4h_to_h`, c.intermediateSize, c.hiddenSize, dtype)
  )

/** The final hidden states [batch, seq, hidden] of the trunk for `input_ids` / `positions`. */
export const gptNeoXTrunk = (g: Graph, ids: Tensor, positions: Tensor, c: GptNeoXConfig, dtype: DType): Tensor => {
  const s = ids.shape[1]!
  let h = embedding(g.parameter("gpt_neox.embed_in.weight", dtype, [c.vocabSize, c.hiddenSize]), ids)
  const rope = rotaryTables(positions, Math.max(c.rotaryDims, 2), c.rotaryBase, dtype)
  // The causal mask as an additive bias, built once for every layer (see attentionBias).
  const mask = attentionBias(causalMask(g, s, s), dtype)
  for (let layer = 0; layer < c.numLayers; layer++) {
    const p = `gpt_neox.layers.${layer}`
    const ln1 = norm(g, `${p}.input_layernorm`, c, dtype)
    const ln2 = norm(g, `${p}.post_attention_layernorm`, c, dtype)
    const attended = attention(g, layerNorm(h, ln1.weight, ln1.bias, c.layerNormEps), `${p}.attention`, c, rope, mask, dtype)
    if (c.parallelResidual) {
      h = add(add(h, attended), mlp(g, layerNorm(h, ln2.weight, ln2.bias, c.layerNormEps), `${p}.mlp`, c, dtype))
    } else {
      const mid = add(h, attended)
      h = add(mid, mlp(g, layerNorm(mid, ln2.weight, ln2.bias, c.layerNormEps), `${p}.mlp`, c, dtype))
    }
  }
  const final = norm(g, "gpt_neox.final_layer_norm", c, dtype)
  return layerNorm(h, final.weight, final.bias, c.layerNormEps)
}

/** The head's checkpoint tensors with their shapes. */
export const gptNeoXHeadWeights = (c: GptNeoXConfig, head: GptNeoXHead): Map<string, ReadonlyArray<number>> =>
  head.kind === "reward"
    ? new Map([["out_proj.weight", [1, c.hiddenSize]], ["out_proj.bias", [1]]])
    : new Map([["score.weight", [head.labels, c.hiddenSize]]])

/**
 * The scoring program: inputs `input_ids` int64 [batch, seq], `positions` int64
 * [batch, seq], `pool` [batch, seq] (one-hot of each row's last real token);
 * output `logits` [batch, labels] (labels = 1 for the reward head).
 */
export const gptNeoXScoreProgram = (c: GptNeoXConfig, head: GptNeoXHead, shape: { readonly batch: number; readonly seq: number }, dtype: DType): Program => {
  const g = new Graph()
  const ids = g.input("input_ids", "int64", [shape.batch, shape.seq])
  const positions = g.input("positions", "int64", [shape.batch, shape.seq])
  const pool = g.input("pool", dtype, [shape.batch, shape.seq])
  const hidden = gptNeoXTrunk(g, ids, positions, c, dtype)
  const pooled = reshape(matmul(unsqueeze(pool, 1), hidden), [shape.batch, c.hiddenSize])
  const logits = head.kind === "reward"
    ? applyLinear(pooled, linear(g, "out_proj", c.hiddenSize, 1, dtype))
    : applyLinear(pooled, linearParams(g, "score", c.hiddenSize, head.labels, { dtype, trainable: false }))
  g.output("logits", logits)
  return g.build()
}
