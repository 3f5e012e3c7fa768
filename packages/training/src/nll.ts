/**
 * The supervised fine-tuning objective: mean negative log-likelihood of the
 * completion (response) tokens, token-weighted over the batch — torch's
 * `cross_entropy(..., ignore_index)` over the response positions.
 *
 * @example
 * ```ts
 * import { nllObjective } from "@refine-af/training"
 * nllObjective.feeds // []
 * ```
 */
import { div, maximum, mul, neg, sum } from "@refine-af/tensor"
import type { Objective } from "./objective.ts"

export const nllObjective: Objective<never> = {
  id: "nll",
  heads: [],
  feeds: [],
  loss: ({ logprobs, mask }) => neg(div(sum(mul(logprobs, mask)), maximum(sum(mask), 1)))
}
