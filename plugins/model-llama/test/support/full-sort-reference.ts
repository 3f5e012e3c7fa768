/**
 * The host sampler exactly as it was before selection-based top-k / top-p:
 * a full comparator sort of the vocabulary. Kept verbatim as the reference the
 * fast sampler must match token for token (test/sampling-exact.test.ts) and
 * as the baseline of bench/sampling.ts.
 */
import type { SamplingParams } from "@refine-af/core"
import { applyPenalties, hasPenalties, logSumExp, type SampledToken, type Uniform } from "../../src/index.ts"

const argmax = (values: ArrayLike<number>): number => {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i
  return best
}

/** Indices of the `k` largest values, largest first (ties: lower index first). */
const topIndices = (values: Float32Array, k: number): Array<number> => {
  if (k >= values.length) return Array.from(values.keys()).sort((a, b) => values[b]! - values[a]! || a - b)
  // Keep a small sorted list; vocabularies are large but k is usually small.
  const kept: Array<number> = []
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (kept.length === k && v <= values[kept[k - 1]!]!) continue
    let at = kept.length
    while (at > 0 && values[kept[at - 1]!]! < v) at--
    kept.splice(at, 0, i)
    if (kept.length > k) kept.pop()
  }
  return kept
}

/**
 * Picks the next token. `temperature` 0 is greedy (penalties still apply);
 * an absent temperature means 1.
 *
 * @example
 * ```ts
 * import { sampleNext, seededUniform } from "@refine-af/model-llama"
 * const { tokenId } = sampleNext(new Float32Array([0, 2, 1]), { maxNewTokens: 1, temperature: 0 }, seededUniform(1), [], [])
 * ```
 */
export const referenceSampleNext = (
  logits: Float32Array,
  params: SamplingParams,
  uniform: Uniform,
  promptIds: ReadonlyArray<number>,
  generatedIds: ReadonlyArray<number>
): SampledToken => {
  const logprobOf = (id: number) => logits[id]! - logSumExp(logits)
  const adjusted = hasPenalties(params) ? Float32Array.from(logits) : logits
  if (adjusted !== logits) applyPenalties(adjusted, promptIds, generatedIds, params)
  const temperature = params.temperature ?? 1
  if (temperature <= 0) {
    const tokenId = argmax(adjusted)
    return { tokenId, logprob: logprobOf(tokenId) }
  }
  const k = params.topK !== undefined && params.topK > 0 ? Math.min(params.topK, adjusted.length) : adjusted.length
  const topP = params.topP ?? 1
  // Candidates sorted by logit; without top-k or top-p every token stays a candidate (no sort needed).
  const needsSort = k < adjusted.length || topP < 1
  const candidates = needsSort ? topIndices(adjusted, k) : Array.from(adjusted.keys())
  const max = adjusted[needsSort ? candidates[0]! : argmax(adjusted)]!
  const weights = candidates.map((id) => Math.exp((adjusted[id]! - max) / temperature))
  let kept = candidates.length
  if (topP < 1) {
    const total = weights.reduce((a, b) => a + b, 0)
    let cumulative = 0
    // Keep the smallest prefix whose mass reaches topP (always at least one token).
    for (let i = 0; i < candidates.length; i++) {
      cumulative += weights[i]! / total
      if (cumulative >= topP) {
        kept = i + 1
        break
      }
    }
  }
  let mass = 0
  for (let i = 0; i < kept; i++) mass += weights[i]!
  let target = uniform() * mass
  for (let i = 0; i < kept; i++) {
    target -= weights[i]!
    if (target < 0) return { tokenId: candidates[i]!, logprob: logprobOf(candidates[i]!) }
  }
  const last = candidates[kept - 1]!
  return { tokenId: last, logprob: logprobOf(last) }
}

