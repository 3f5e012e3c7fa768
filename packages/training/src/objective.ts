/**
 * An `Objective` is a training loss written in the tensor IR over the policy's
 * per-token heads and named per-token feeds. The model compiles it together
 * with its forward pass, the backward pass and the AdamW update into one
 * program per shape bucket, so an algorithm never sees the model's internals.
 *
 * Layout: every head, the `mask` and every feed is a [batch, positions] tensor
 * of the same float dtype. Row b is sequence b of the batch; element [b, t] of
 * all of them refers to the same token. `mask[b, t]` is 1 exactly at the
 * completion tokens (those at index ≥ `promptLength`) and 0 at prompt and
 * padding positions, where heads and feeds hold arbitrary finite values.
 * Which column holds which token is the model's business — write losses with
 * elementwise ops and sums over masked positions (whole batch, or per row with
 * `sum(x, 1)`), never by indexing columns.
 *
 * - `logprobs`: log p(token | everything before it) under the adapted policy;
 * - `values`: the value head's estimate at the state that emits the token (only
 *   when `heads` lists "values" and the session has a value head);
 * - `entropy`: entropy of the next-token distribution at that state.
 *
 * Feeds come from the host (advantages, returns, old logprobs, reference
 * logprobs, …) as one number per completion token; the model places them in
 * the same layout and stops gradients through them.
 *
 * @example
 * ```ts
 * import { div, exp, maximum, minimum, mul, neg, sub, sum, clip } from "@refine-af/tensor"
 * import type { Objective } from "@refine-af/training"
 * // PPO's clipped surrogate over completion tokens.
 * const ppoPolicyLoss = (epsilon: number): Objective<"advantages" | "oldLogprobs"> => ({
 *   id: `ppo-clip-${epsilon}`,
 *   heads: [],
 *   feeds: ["advantages", "oldLogprobs"],
 *   loss: ({ logprobs, mask }, { advantages, oldLogprobs }) => {
 *     const ratio = exp(sub(logprobs, oldLogprobs))
 *     const surrogate = minimum(mul(ratio, advantages), mul(clip(ratio, 1 - epsilon, 1 + epsilon), advantages))
 *     return neg(div(sum(mul(surrogate, mask)), maximum(sum(mask), 1)))
 *   }
 * })
 * ```
 */
import type { Tensor } from "@refine-af/tensor"

/** The optional heads an objective may read. */
export type HeadName = "values" | "entropy"

/** What the model hands an objective: per-token heads and the completion mask, all [batch, positions]. */
export interface HeadTensors {
  readonly logprobs: Tensor
  readonly values?: Tensor
  readonly entropy?: Tensor
  readonly mask: Tensor
}

/** A loss over the policy heads and named per-token feeds `F`. */
export interface Objective<F extends string = string> {
  /**
   * Identifies the loss's code and constants (e.g. `ppo-clip-0.2`): the model caches
   * one compiled program per (objective id, shape bucket), so two objectives with
   * different formulas or constants must have different ids.
   */
  readonly id: string
  /** Optional heads `loss` reads (`logprobs` and `mask` are always given). */
  readonly heads: ReadonlyArray<HeadName>
  /** Names of the per-token feeds `loss` reads. */
  readonly feeds: ReadonlyArray<F>
  /** The scalar loss to minimise. */
  readonly loss: (heads: HeadTensors, feeds: Readonly<Record<F, Tensor>>) => Tensor
  /**
   * Extra scalars to report from the same forward pass (clip fraction, approx-KL, …),
   * returned by `step` as `metrics` (averaged over micro-batches). No gradient flows through them.
   */
  readonly metrics?: (heads: HeadTensors, feeds: Readonly<Record<F, Tensor>>) => Readonly<Record<string, Tensor>>
}

/**
 * Per-token host values of feed `F` for each sequence of a batch: `feeds[name][i]`
 * has one number per completion token of sequence i (length = tokens − promptLength).
 */
export type ObjectiveFeeds<F extends string> = Readonly<Record<F, ReadonlyArray<ReadonlyArray<number>>>>
