/**
 * T5 as a tensor program with Hugging Face weight names: the encoder over
 * right-padded inputs (bidirectional self-attention with relative-position
 * bias, RMS layer norms, ReLU or gated-GELU feed-forward) and the FIRST decoder
 * step (decoder_start_token, self-attention, cross-attention to the encoder),
 * ending in the vocabulary logits of that step — what UniEval reads. T5 does
 * not scale attention scores; a tied head multiplies by d_model^-0.5.
 *
 * @example
 * ```ts
 * import { parseT5Config, t5FirstStepProgram } from "@refine-af/models"
 * const c = parseT5Config({ d_model: 32, d_kv: 8, d_ff: 64, num_layers: 1, num_heads: 4, vocab_size: 64 }, "tiny")
 * const program = t5FirstStepProgram(c, { batch: 2, seq: 8 }, "float32")
 * ```
 */
import {
  add, applyLinear, attentionBias, embedding, gather, gelu, Graph, greater, linearParams, matmul, mul, relu, reshape,
  rmsNorm, softmax, transpose, transposeLast2, unsqueeze, type DType, type Program, type Tensor
} from "@refine-af/tensor"
import { relativePositionBucket, type T5Config } from "./config.ts"

const lin = (g: Graph, name: string, inF: number, outF: number, dtype: DType) => linearParams(g, name, inF, outF, { dtype, trainable: false })
const ln = (g: Graph, x: Tensor, name: string, c: T5Config, dtype: DType) => rmsNorm(x, g.parameter(name, dtype, [c.dModel]), c.eps)

/** Bias [1, heads, q, k] from a relative_attention_bias table for query positions `qPos` and keys 0..k-1. */
const positionBias = (g: Graph, table: Tensor, c: T5Config, qPos: ReadonlyArray<number>, keys: number, bidirectional: boolean): Tensor => {
  const buckets = qPos.flatMap((q) => Array.from({ length: keys }, (_, k) => relativePositionBucket(k - q, bidirectional, c.buckets, c.maxDistance)))
  const rows = gather(table, g.constant(buckets, "int64", [qPos.length, keys]), 0) // [q, k, heads]
  return unsqueeze(transpose(rows, [2, 0, 1]), 0)
}

/** Multi-head attention without score scaling; the additive `bias` (position bias and masked keys, see attentionBias) broadcasts to [b, heads, q, k]. */
const attend = (g: Graph, x: Tensor, kv: Tensor, p: string, c: T5Config, dtype: DType, bias: Tensor): Tensor => {
  const inner = c.numHeads * c.dKv
  const [b, sq] = x.shape as [number, number, number]
  const sk = kv.shape[1]!
  const heads = (t: Tensor, s: number) => transpose(reshape(t, [b, s, c.numHeads, c.dKv]), [0, 2, 1, 3])
  const q = heads(applyLinear(x, lin(g, `${p}.q`, c.dModel, inner, dtype)), sq)
  const k = heads(applyLinear(kv, lin(g, `${p}.k`, c.dModel, inner, dtype)), sk)
  const v = heads(applyLinear(kv, lin(g, `${p}.v`, c.dModel, inner, dtype)), sk)
  const out = matmul(softmax(add(matmul(q, transposeLast2(k)), bias), -1), v)
  return applyLinear(reshape(transpose(out, [0, 2, 1, 3]), [b, sq, inner]), lin(g, `${p}.o`, inner, c.dModel, dtype))
}

const feedForward = (g: Graph, x: Tensor, p: string, c: T5Config, dtype: DType): Tensor => {
  const h = c.feedForward === "relu"
    ? relu(applyLinear(x, lin(g, `${p}.DenseReluDense.wi`, c.dModel, c.dFf, dtype)))
    : mul(gelu(applyLinear(x, lin(g, `${p}.DenseReluDense.wi_0`, c.dModel, c.dFf, dtype)), "tanh"), applyLinear(x, lin(g, `${p}.DenseReluDense.wi_1`, c.dModel, c.dFf, dtype)))
  return applyLinear(h, lin(g, `${p}.DenseReluDense.wo`, c.dFf, c.dModel, dtype))
}

/**
 * Inputs `input_ids` int64 [batch, seq] (right-padded) and `attention_mask`
 * [batch, seq] (1 real, 0 pad); output `logits` [batch, vocab] of the first
 * decoder step.
 */
export const t5FirstStepProgram = (c: T5Config, shape: { readonly batch: number; readonly seq: number }, dtype: DType): Program => {
  const g = new Graph()
  const { batch: b, seq: s } = shape
  const ids = g.input("input_ids", "int64", [b, s])
  const keep = greater(g.input("attention_mask", dtype, [b, s]), 0.5)
  // Masked keys as an additive bias, built once (a select per layer is slow on onnxruntime's CPU).
  const keyBias = attentionBias(reshape(keep, [b, 1, 1, s]), dtype)
  const shared = g.parameter("shared.weight", dtype, [c.vocabSize, c.dModel])

  let h = embedding(shared, ids)
  const encBias = add(positionBias(g, g.parameter("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", dtype, [c.buckets, c.numHeads]), c, Array.from({ length: s }, (_, i) => i), s, true), keyBias)
  for (let i = 0; i < c.encoderLayers; i++) {
    const p = `encoder.block.${i}.layer`
    const normed = ln(g, h, `${p}.0.layer_norm.weight`, c, dtype)
    h = add(h, attend(g, normed, normed, `${p}.0.SelfAttention`, c, dtype, encBias))
    h = add(h, feedForward(g, ln(g, h, `${p}.1.layer_norm.weight`, c, dtype), `${p}.1`, c, dtype))
  }
  const encoded = ln(g, h, "encoder.final_layer_norm.weight", c, dtype)

  let d = embedding(shared, g.constant(new Array(b).fill(c.decoderStartTokenId), "int64", [b, 1]))
  const decBias = positionBias(g, g.parameter("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", dtype, [c.buckets, c.numHeads]), c, [0], 1, false)
  for (let i = 0; i < c.decoderLayers; i++) {
    const p = `decoder.block.${i}.layer`
    const normed = ln(g, d, `${p}.0.layer_norm.weight`, c, dtype)
    d = add(d, attend(g, normed, normed, `${p}.0.SelfAttention`, c, dtype, decBias))
    d = add(d, attend(g, ln(g, d, `${p}.1.layer_norm.weight`, c, dtype), encoded, `${p}.1.EncDecAttention`, c, dtype, keyBias))
    d = add(d, feedForward(g, ln(g, d, `${p}.2.layer_norm.weight`, c, dtype), `${p}.2`, c, dtype))
  }
  let out = reshape(ln(g, d, "decoder.final_layer_norm.weight", c, dtype), [b, c.dModel])
  if (c.tied) out = mul(out, Math.pow(c.dModel, -0.5))
  const head = c.tied ? shared : g.parameter("lm_head.weight", dtype, [c.vocabSize, c.dModel])
  g.output("logits", matmul(out, transposeLast2(head)))
  return g.build()
}
