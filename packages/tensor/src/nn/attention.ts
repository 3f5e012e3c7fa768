/**
 * Causal (optionally sliding-window) multi-head attention with grouped-query
 * heads (numKvHeads divides numHeads) and rotary positions, Llama layout.
 *
 * @example
 * ```ts
 * import { Graph, attentionParams, attention, rotaryTables } from "@refine-af/tensor"
 * const g = new Graph()
 * const config = { hidden: 16, numHeads: 4, numKvHeads: 2, headDim: 4 }
 * const x = g.input("x", "float32", [1, 3, 16])
 * const rope = rotaryTables(g.input("positions", "int64", [1, 3]), 4, 10000, "float32")
 * const p = attentionParams(g, "self_attn", config, { dtype: "float32" })
 * g.output("y", attention(x, p, config, rope))
 * ```
 */
import { add, and, expand, greater, matmul, mul, reshape, softmax, tanh, transpose, transposeLast2, tril, triu, unsqueeze, where } from "../api.ts"
import { ShapeError } from "../errors.ts"
import type { Graph, Tensor } from "../graph.ts"
import type { DType } from "../ir.ts"
import { applyLinear, linearParams, type LinearOptions, type LinearParams } from "./linear.ts"
import { applyRotary } from "./rotary.ts"

/** Attention geometry. */
export interface AttentionConfig {
  readonly hidden: number
  readonly numHeads: number
  readonly numKvHeads: number
  readonly headDim: number
  /** Keys further than this many positions back are masked (Mistral); none when omitted. */
  readonly slidingWindow?: number
}

/** Projections q, k, v, o (HF names `${prefix}.q_proj` …). */
export interface AttentionParams {
  readonly q: LinearParams
  readonly k: LinearParams
  readonly v: LinearParams
  readonly o: LinearParams
}

/** Declares the four projections. `options.bias` adds q/k/v biases (Qwen2); o never has one. */
export const attentionParams = (g: Graph, prefix: string, c: AttentionConfig, options: LinearOptions): AttentionParams => ({
  q: linearParams(g, `${prefix}.q_proj`, c.hidden, c.numHeads * c.headDim, options),
  k: linearParams(g, `${prefix}.k_proj`, c.hidden, c.numKvHeads * c.headDim, options),
  v: linearParams(g, `${prefix}.v_proj`, c.hidden, c.numKvHeads * c.headDim, options),
  o: linearParams(g, `${prefix}.o_proj`, c.numHeads * c.headDim, c.hidden, { ...options, bias: false })
})

/**
 * Bool mask [queries, keys]: query i (at absolute position offset + i) may see key j
 * when j ≤ offset + i and, with a window w, offset + i − j < w.
 */
export const causalMask = (g: Graph, queries: number, keys: number, offset = 0, window?: number): Tensor => {
  const ones = expand(g.scalar(1, "float32"), [queries, keys])
  let allowed = greater(tril(ones, offset), 0.5)
  if (window !== undefined) allowed = and(allowed, greater(triu(ones, offset - window + 1), 0.5))
  return allowed
}

/** Most negative finite value of a float dtype (masked scores; keeps fully masked rows NaN-free). */
export const lowest = (dtype: DType): number => (dtype === "float16" ? -65504 : dtype === "float32" ? -3.4028234663852886e38 : -Number.MAX_VALUE)

/**
 * The score a masked key gets from an additive bias: far below any real score
 * (its softmax weight underflows to exactly 0, as with {@link lowest}) and far
 * enough above the most negative finite value that adding a score cannot
 * overflow to −∞ (a fully masked row stays finite and NaN-free).
 */
export const maskedScore = (dtype: DType): number => (dtype === "float16" ? -30000 : dtype === "float32" ? -1e30 : -1e300)

/**
 * An additive attention bias from a bool mask: 0 where a key may be seen, {@link maskedScore}
 * elsewhere. Built once per program and added to every layer's scores
 * (broadcast over heads), it replaces a select per layer over the
 * [batch, heads, queries, keys] scores, which onnxruntime's CPU `Where` runs
 * slowly: 26–37% of a tiny Llama's training and evaluation kernel time. The
 * softmax is the same: unmasked scores gain +0, masked ones weigh 0.
 */
export const attentionBias = (mask: Tensor, dtype: DType): Tensor => where(mask, mask.graph.scalar(0, dtype), mask.graph.scalar(maskedScore(dtype), dtype))

/** Scores with a mask applied: a bool mask selects, a float bias ({@link attentionBias}) adds. */
export const maskScores = (scores: Tensor, mask: Tensor): Tensor => (mask.dtype === "bool" ? where(mask, scores, lowest(scores.dtype)) : add(scores, mask))

/** Repeats kv heads [b, kv, s, d] → [b, kv·groups, s, d] (each kv head serves `groups` query heads). */
export const repeatKv = (x: Tensor, groups: number): Tensor => {
  if (groups === 1) return x
  const [b, kv, s, d] = x.shape as [number, number, number, number]
  return reshape(expand(unsqueeze(x, 2), [b, kv, groups, s, d]), [b, kv * groups, s, d])
}

/**
 * Soft cap: `cap·tanh(x / cap)`, x squashed smoothly into (−cap, cap) (Gemma 2's
 * attention scores and logits); x itself when `cap` is null.
 */
export const softcap = (x: Tensor, cap: number | null): Tensor => (cap === null ? x : mul(tanh(mul(x, 1 / cap)), cap))

/**
 * softmax(q·kᵀ/√d masked)·v for q [b,h,sq,d], k/v [b,h,sk,d], mask (bool, or an {@link attentionBias}) broadcastable to [b,h,sq,sk];
 * with `scoreCap`, the scaled scores are {@link softcap}ped before the mask.
 */
export const scaledDotProductAttention = (q: Tensor, k: Tensor, v: Tensor, mask: Tensor, scoreCap: number | null = null): Tensor => {
  const d = q.shape[q.rank - 1]!
  const scores = softcap(mul(matmul(q, transposeLast2(k)), 1 / Math.sqrt(d)), scoreCap)
  return matmul(softmax(maskScores(scores, mask), -1), v)
}

/** Rotary tables for the current tokens ([batch, seq, headDim] each). */
export interface RotaryTables {
  readonly cos: Tensor
  readonly sin: Tensor
}

/**
 * Self-attention over x [batch, seq, hidden] with a causal mask; `keyMask`
 * [batch, seq] (bool, true = real token) additionally hides padding keys.
 */
export const attention = (x: Tensor, p: AttentionParams, c: AttentionConfig, rope: RotaryTables, keyMask?: Tensor): Tensor => {
  if (c.numHeads % c.numKvHeads !== 0) throw new ShapeError({ op: "attention", message: `attention: numHeads ${c.numHeads} is not a multiple of numKvHeads ${c.numKvHeads}` })
  const [b, s] = x.shape as [number, number, number]
  const heads = (t: Tensor, n: number) => transpose(reshape(t, [b, s, n, c.headDim]), [0, 2, 1, 3])
  const q = applyRotary(heads(applyLinear(x, p.q), c.numHeads), rope.cos, rope.sin)
  const k = applyRotary(heads(applyLinear(x, p.k), c.numKvHeads), rope.cos, rope.sin)
  const v = heads(applyLinear(x, p.v), c.numKvHeads)
  const groups = c.numHeads / c.numKvHeads
  let mask = causalMask(x.graph, s, s, 0, c.slidingWindow)
  if (keyMask !== undefined) mask = and(mask, reshape(keyMask, [b, 1, 1, s]))
  const out = scaledDotProductAttention(q, repeatKv(k, groups), repeatKv(v, groups), mask)
  return applyLinear(reshape(transpose(out, [0, 2, 1, 3]), [b, s, c.numHeads * c.headDim]), p.o)
}
