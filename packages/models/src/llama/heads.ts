/**
 * Heads on the Llama trunk's final hidden state. Each declares the inputs and
 * parameters it needs (once per trunk) and returns a tensor; the caller
 * decides which become outputs. Parameter names follow the Hugging Face /
 * TRL checkpoints they load from: `lm_head.weight` (tied to the embeddings
 * when the config says so), `score.weight` (`LlamaForSequenceClassification`),
 * `v_head.summary.weight` / `.bias` (TRL's value head).
 *
 * @example
 * ```ts
 * import { llamaTrunk, lmLogits, targetLogprobs, tokenEntropy, valueHead } from "@refine-af/models"
 * declare const config: import("@refine-af/models").LlamaConfig
 * const trunk = llamaTrunk(config, { batch: 4, length: 64, cache: 0 })
 * const logits = lmLogits(trunk, "all")
 * trunk.graph.output("logprobs", targetLogprobs(trunk, logits))
 * trunk.graph.output("entropy", tokenEntropy(logits))
 * trunk.graph.output("values", valueHead(trunk))
 * ```
 */
import {
  add,
  cast,
  concat,
  crossEntropy,
  div,
  equal,
  exp,
  log,
  logSoftmax,
  matmul,
  max,
  maximum,
  mul,
  neg,
  not,
  reshape,
  slice,
  softcap,
  sub,
  sum,
  tokenLogProbs,
  transposeLast2,
  unsqueeze,
  type Tensor
} from "@refine-af/tensor"
import { stepNames, type LlamaTrunk } from "./trunk.ts"

/**
 * The trunk as heads see it on its last `count` positions only (`hidden` sliced,
 * `shape.length` = count): left padding puts every row's newest tokens last, so
 * heads that need only the tail of each row (a completion's logprobs, a
 * continuation's score) skip the LM head on the others — Hugging Face's
 * `logits_to_keep`. Inputs the heads declare (`targets`) then have `count` columns.
 */
export const lastPositions = (trunk: LlamaTrunk, count: number): LlamaTrunk => {
  if (!Number.isInteger(count) || count < 1 || count > trunk.shape.length) throw new RangeError(`lastPositions: count must be an integer in [1, ${trunk.shape.length}], got ${count}`)
  return count === trunk.shape.length ? trunk : { ...trunk, hidden: slice(trunk.hidden, [{ axis: 1, start: trunk.shape.length - count }]), shape: { ...trunk.shape, length: count } }
}

/** Parameter names of the heads. */
export const headNames = {
  lmHead: "lm_head.weight",
  score: "score.weight",
  valueWeight: "v_head.summary.weight",
  valueBias: "v_head.summary.bias"
} as const

/** The LM head weight [vocab, hidden]: the embeddings when tied, else `lm_head.weight`. */
export const lmHeadWeight = (trunk: LlamaTrunk): Tensor =>
  trunk.config.tieWordEmbeddings
    ? trunk.embed
    : trunk.parameter(headNames.lmHead, trunk.hidden.dtype, [trunk.config.vocabSize, trunk.config.hiddenSize], trunk.options.trainableBase ?? false)

/** The hidden state the LM head reads: granite divides its logits by `logits_scaling`, done here on the (much smaller) hidden side. */
const headInput = (trunk: LlamaTrunk, hidden: Tensor): Tensor => {
  const scale = trunk.config.multipliers?.logits ?? 1
  return scale === 1 ? hidden : mul(hidden, 1 / scale)
}

/** Logits [..., vocab] of hidden states [..., hidden]: the LM head, then the soft cap where the config has one (gemma2 by default). */
const headLogits = (trunk: LlamaTrunk, hidden: Tensor): Tensor =>
  softcap(matmul(headInput(trunk, hidden), transposeLast2(lmHeadWeight(trunk))), trunk.config.logitSoftcap)

/**
 * Next-token logits: `"all"` → [batch, length, vocab]; `"last"` → [batch, vocab]
 * of the last position (left padding puts every row's newest token last).
 */
export const lmLogits = (trunk: LlamaTrunk, positions: "all" | "last"): Tensor => {
  if (positions === "all") return headLogits(trunk, trunk.hidden)
  const { batch, length } = trunk.shape
  return headLogits(trunk, reshape(slice(trunk.hidden, [{ axis: 1, start: length - 1 }]), [batch, trunk.config.hiddenSize]))
}

/**
 * log Σ exp over the vocabulary of [batch, vocab] logits → [batch], in float32
 * (max-shifted). Generation reads a token's logprob as `logits[id] − lse`
 * instead of exponentiating the whole vocabulary in JavaScript (≈1 ms per row
 * at 32k), and a finite lse proves the row holds no NaN or +Inf.
 */
export const lastLogSumExp = (logits: Tensor): Tensor => lastLogitStats(logits).logsumexp

/**
 * Per row of [batch, vocab] logits, in float32: the log-sum-exp (see
 * {@link lastLogSumExp}), the largest logit and its index — the first one
 * when several tie, as a host argmax scanning left to right finds it — as
 * float [batch] (exact up to 2^24 entries). Greedy decoding reads these three
 * numbers per row instead of downloading the whole row of logits.
 */
export const lastLogitStats = (logits: Tensor): { readonly logsumexp: Tensor; readonly maxLogit: Tensor; readonly argmax: Tensor } => {
  const x = logits.dtype === "float32" ? logits : cast(logits, "float32")
  const [batch, vocab] = [x.shape[0]!, x.shape[1]!]
  const top = max(x, -1, true)
  const maxLogit = reshape(top, [batch])
  // The first maximum has the largest distance to the end: argmax = (vocab − 1) − max over maxima of (vocab − 1 − index).
  // Non-maxima count as distance 0 (a product with the 0/1 mask, not a select:
  // the 30M model's 8-row decode step ran 3–4% faster than with onnxruntime's
  // broadcasting Where, in-process A/B); a maximum at the last index has
  // distance 0 too, and the max over 0s still gives vocab − 1.
  const fromEnd = x.graph.constant(Array.from({ length: vocab }, (_, i) => vocab - 1 - i), "float32", [1, vocab])
  const argmax = sub(vocab - 1, max(mul(cast(equal(x, top), "float32"), fromEnd), -1))
  return { logsumexp: add(log(sum(exp(sub(x, top)), -1)), maxLogit), maxLogit, argmax }
}

/** The `targets` input [batch, length] int64 (declared once). */
export const targetsInput = (trunk: LlamaTrunk): Tensor => trunk.input(stepNames.targets, "int64", [trunk.shape.batch, trunk.shape.length])

/** log p(targets[b, i] | tokens ≤ i) [batch, length] from all-position logits; input `targets`. */
export const targetLogprobs = (trunk: LlamaTrunk, logits: Tensor): Tensor => tokenLogProbs(logits, targetsInput(trunk))

/** Entropy of the next-token distribution at each position, −Σ p·log p over the vocabulary: [..., vocab] → [...]. */
export const tokenEntropy = (logits: Tensor): Tensor => {
  const logp = logSoftmax(logits.dtype === "float16" ? cast(logits, "float32") : logits, -1)
  return neg(sum(mul(exp(logp), logp), -1))
}

/** Masked mean cross-entropy of `targets` under `loss_mask` [batch, length] (a scalar). */
export const maskedCrossEntropy = (trunk: LlamaTrunk, logits: Tensor): Tensor =>
  crossEntropy(logits, targetsInput(trunk), trunk.input(stepNames.lossMask, trunk.hidden.dtype, [trunk.shape.batch, trunk.shape.length]))

/** Logit elements [batch, positions, vocab] per chunk of {@link chunkedTokenStats} (32 MiB in float32). */
export const LOGIT_CHUNK_ELEMENTS = 1 << 23

/**
 * Per-token statistics of the next-token distribution at every position,
 * `logprobs` of `targets` and / or `entropy` [batch, length], computed over
 * chunks of positions: one chunk's [batch, chunk, vocab] logits exist at a
 * time instead of all-position logits (and their softmax) — at 2 × 1024
 * tokens and a 32000-token vocabulary, 262 MB per copy. Forward-only
 * programs (evaluation, scoring) need nothing more; with `recompute`, each
 * chunk is a `Graph.checkpoint` segment, so a training program recomputes a
 * chunk's logits in the backward pass instead of keeping them from the
 * forward. The values are those of {@link targetLogprobs} /
 * {@link tokenEntropy} on `lmLogits(trunk, "all")`.
 */
export const chunkedTokenStats = (
  trunk: LlamaTrunk,
  want: { readonly logprobs?: boolean; readonly entropy?: boolean; readonly recompute?: boolean },
  chunk = Math.max(1, Math.floor(LOGIT_CHUNK_ELEMENTS / (trunk.shape.batch * trunk.config.vocabSize)))
): { readonly logprobs?: Tensor; readonly entropy?: Tensor } => {
  const { length } = trunk.shape
  const targets = want.logprobs ? targetsInput(trunk) : undefined
  const logprobs: Array<Tensor> = []
  const entropy: Array<Tensor> = []
  for (let start = 0; start < length; start += chunk) {
    const end = Math.min(length, start + chunk)
    const hidden = slice(trunk.hidden, [{ axis: 1, start, end }])
    const body = () => {
      const logits = headLogits(trunk, hidden)
      return {
        logprobs: targets === undefined ? undefined : tokenLogProbs(logits, slice(targets, [{ axis: 1, start, end }])),
        entropy: want.entropy ? tokenEntropy(logits) : undefined
      }
    }
    const stats = want.recompute ? trunk.graph.checkpoint([hidden], body) : body()
    if (stats.logprobs !== undefined) logprobs.push(stats.logprobs)
    if (stats.entropy !== undefined) entropy.push(stats.entropy)
  }
  const joined = (parts: ReadonlyArray<Tensor>) => (parts.length === 1 ? parts[0]! : concat(parts, 1))
  return {
    ...(logprobs.length > 0 ? { logprobs: joined(logprobs) } : {}),
    ...(entropy.length > 0 ? { entropy: joined(entropy) } : {})
  }
}

/** {@link maskedCrossEntropy} from per-token logprobs of `targets` [batch, length] (e.g. {@link chunkedTokenStats}'). */
export const maskedMeanNll = (trunk: LlamaTrunk, logprobs: Tensor): Tensor => {
  const mask = trunk.input(stepNames.lossMask, trunk.hidden.dtype, [trunk.shape.batch, trunk.shape.length])
  return div(neg(sum(mul(logprobs, mask))), maximum(sum(mask), 1))
}

/**
 * A value per token [batch, length]: a linear head `hidden → 1` on the final
 * hidden state (TRL's `v_head.summary`), trainable unless `trainable: false`.
 */
export const valueHead = (trunk: LlamaTrunk, options: { readonly trainable?: boolean } = {}): Tensor => {
  const trainable = options.trainable ?? true
  const dtype = trunk.hidden.dtype
  const weight = trunk.parameter(headNames.valueWeight, dtype, [1, trunk.config.hiddenSize], trainable)
  const bias = trunk.parameter(headNames.valueBias, dtype, [1], trainable)
  const { batch, length } = trunk.shape
  return reshape(add(matmul(trunk.hidden, transposeLast2(weight)), bias), [batch, length])
}

/**
 * Index of each row's last non-padding token [batch, 1] (float), exactly as
 * `LlamaForSequenceClassification` picks it: the largest position whose id is
 * not `padTokenId` (0 when a row is all padding); the last position when the
 * model has no pad token.
 */
export const lastTokenIndex = (trunk: LlamaTrunk, padTokenId: number | null): Tensor => {
  const { batch, length } = trunk.shape
  const g = trunk.graph
  if (padTokenId === null) return g.constant(new Array<number>(batch).fill(length - 1), trunk.hidden.dtype, [batch, 1])
  const positions = g.constant(Array.from({ length }, (_, i) => i), trunk.hidden.dtype, [1, length])
  const real = cast(not(equal(trunk.inputIds, g.scalar(padTokenId, "int64"))), trunk.hidden.dtype)
  return max(mul(positions, real), 1, true)
}

/**
 * Sequence scores [batch, labels]: `score.weight` [labels, hidden] (no bias)
 * applied to the hidden state of each row's last non-pad token
 * ({@link lastTokenIndex}) — a Llama reward model's output.
 */
export const sequenceScore = (trunk: LlamaTrunk, options: { readonly labels: number; readonly padTokenId: number | null; readonly trainable?: boolean }): Tensor => {
  const { length } = trunk.shape
  const g = trunk.graph
  const dtype = trunk.hidden.dtype
  const weight = trunk.parameter(headNames.score, dtype, [options.labels, trunk.config.hiddenSize], options.trainable ?? false)
  const perToken = matmul(trunk.hidden, transposeLast2(weight))
  const positions = g.constant(Array.from({ length }, (_, i) => i), dtype, [1, length])
  const pick = cast(equal(positions, lastTokenIndex(trunk, options.padTokenId)), dtype)
  return sum(mul(perToken, unsqueeze(pick, -1)), 1)
}
