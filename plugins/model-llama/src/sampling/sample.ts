/**
 * Choosing the next token from one row of logits on the host: greedy, or
 * temperature → top-k → top-p (the Hugging Face order) sampling with a
 * per-request uniform stream. The reported logprob is of the raw model
 * distribution (log-softmax of the unpenalised logits at temperature 1), which
 * is what scoring, PPO and KL terms need.
 */
import type { SamplingParams } from "@refine-af/core"
import { applyPenalties, hasPenalties } from "./penalties.ts"
import type { Uniform } from "./prng.ts"
import { drawByFullSort } from "./full-sort.ts"
import { drawBySelection } from "./nucleus.ts"

/** A chosen token and its log-probability under the raw model distribution. */
export interface SampledToken {
  readonly tokenId: number
  readonly logprob: number
}

/** log Σ exp(logits) computed stably. */
export const logSumExp = (logits: ArrayLike<number>): number => {
  let max = -Infinity
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!
  if (max === -Infinity) return -Infinity
  let total = 0
  for (let i = 0; i < logits.length; i++) total += Math.exp(logits[i]! - max)
  return max + Math.log(total)
}

const argmax = (values: ArrayLike<number>): number => {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i
  return best
}

/**
 * Picks the next token. `temperature` 0 is greedy (penalties still apply);
 * an absent temperature means 1. `logSumExpOfLogits`, when the model computed
 * it (the generation programs do), saves exponentiating the whole vocabulary
 * here for the logprob.
 *
 * @example
 * ```ts
 * import { sampleNext, seededUniform } from "@refine-af/model-llama"
 * const { tokenId } = sampleNext(new Float32Array([0, 2, 1]), { maxNewTokens: 1, temperature: 0 }, seededUniform(1), [], [])
 * ```
 */
export const sampleNext = (
  logits: Float32Array,
  params: SamplingParams,
  uniform: Uniform,
  promptIds: ReadonlyArray<number>,
  generatedIds: ReadonlyArray<number>,
  logSumExpOfLogits?: number
): SampledToken => {
  const logprobOf = (id: number) => logits[id]! - (logSumExpOfLogits ?? logSumExp(logits))
  const adjusted = hasPenalties(params) ? Float32Array.from(logits) : logits
  if (adjusted !== logits) applyPenalties(adjusted, promptIds, generatedIds, params)
  const temperature = params.temperature ?? 1
  if (temperature <= 0) {
    const tokenId = argmax(adjusted)
    return { tokenId, logprob: logprobOf(tokenId) }
  }
  const k = params.topK !== undefined && params.topK > 0 ? Math.min(params.topK, adjusted.length) : adjusted.length
  const topP = params.topP ?? 1
  const tokenId = drawBySelection(adjusted, temperature, k, topP, uniform) ?? drawByFullSort(adjusted, temperature, k, topP, uniform)
  return { tokenId, logprob: logprobOf(tokenId) }
}

/** Index of the earliest occurrence of any stop string in `text`, or -1. */
export const firstStopIndex = (text: string, stops: ReadonlyArray<string> | undefined): number => {
  let first = -1
  for (const stop of stops ?? []) {
    if (stop.length === 0) continue
    const at = text.indexOf(stop)
    if (at >= 0 && (first < 0 || at < first)) first = at
  }
  return first
}
