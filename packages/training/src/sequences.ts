/**
 * Token sequences as training sees them: a prompt followed by a completion,
 * as one id list. Everything per token (heads, feeds) is per completion token.
 *
 * @example
 * ```ts
 * import { completionLength, type TokenSequence } from "@refine-af/training"
 * const seq: TokenSequence = { tokens: [5, 9, 2, 7, 1], promptLength: 2 }
 * completionLength(seq) // 3
 * ```
 */
import type { FinishReason } from "@refine-af/core"

/** A prompt + completion as token ids; tokens at index ≥ `promptLength` are the completion (what is scored and learned). */
export interface TokenSequence {
  readonly tokens: ReadonlyArray<number>
  /** Number of leading prompt tokens (≥ 1: the first completion token needs a context). */
  readonly promptLength: number
}

/** One sampled completion: the full sequence plus what the sampler saw. */
export interface Sampled extends TokenSequence {
  /** The completion's token ids (= `tokens.slice(promptLength)`), EOS included when generation ended on it. */
  readonly completion: ReadonlyArray<number>
  /** The completion decoded (stop strings and EOS removed). */
  readonly text: string
  /** log p of each completion token under the policy's logits before temperature / top-k / top-p. */
  readonly logprobs: ReadonlyArray<number>
  readonly finishReason: FinishReason
}

/** Per-completion-token outputs of `evaluate`, one array entry per completion token. */
export interface Heads {
  readonly logprobs: ReadonlyArray<number>
  readonly values?: ReadonlyArray<number>
  readonly entropy?: ReadonlyArray<number>
}

/** Number of completion tokens of a sequence. */
export const completionLength = (sequence: TokenSequence): number => sequence.tokens.length - sequence.promptLength

/**
 * Each micro-batch's weight in an accumulated update (`StepHyper.accumulation`): its share of the
 * batch's completion tokens (`tokens`; equal shares when the batch has none), of its sequences
 * (`sequences`), or 1/n (`mean`).
 */
export const microBatchShares = (parts: ReadonlyArray<ReadonlyArray<TokenSequence>>, mode: "mean" | "tokens" | "sequences"): Array<number> => {
  const counts = parts.map((part) => mode === "tokens" ? part.reduce((sum, sequence) => sum + completionLength(sequence), 0) : mode === "sequences" ? part.length : 1)
  const total = counts.reduce((a, b) => a + b, 0)
  return counts.map((count) => (total > 0 ? count / total : 1 / parts.length))
}
