/**
 * The straightforward temperature → top-k → top-p draw: sort the candidates by
 * logit, accumulate probabilities in that order, sample from the kept prefix.
 * {@link sampleNext} uses it only when the fast selection path cannot prove it
 * would pick the same prefix (non-finite logits, a cutoff within rounding error).
 */
import type { Uniform } from "./prng.ts"

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
 * Draws a token id from `logits` (already penalised) at `temperature` > 0,
 * keeping the `k` most likely tokens and then the smallest prefix of mass `topP`.
 */
export const drawByFullSort = (logits: Float32Array, temperature: number, k: number, topP: number, uniform: Uniform): number => {
  // Candidates sorted by logit; without top-k or top-p every token stays a candidate (no sort needed).
  const needsSort = k < logits.length || topP < 1
  const candidates = needsSort ? topIndices(logits, k) : Array.from(logits.keys())
  const max = logits[needsSort ? candidates[0]! : argmax(logits)]!
  const weights = candidates.map((id) => Math.exp((logits[id]! - max) / temperature))
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
  return drawFromPrefix(candidates, weights, kept, uniform)
}

/** Samples among the first `kept` candidates proportionally to their weights (sequential subtraction, fixed order). */
export const drawFromPrefix = (candidates: ArrayLike<number>, weights: ArrayLike<number>, kept: number, uniform: Uniform): number => {
  let mass = 0
  for (let i = 0; i < kept; i++) mass += weights[i]!
  let target = uniform() * mass
  for (let i = 0; i < kept; i++) {
    target -= weights[i]!
    if (target < 0) return candidates[i]!
  }
  return candidates[kept - 1]!
}
