/**
 * Fast top-k / top-p draw that picks exactly the token {@link drawByFullSort}
 * would, without sorting the vocabulary: select the top-k set in linear time,
 * find the nucleus by a mass-weighted quickselect, and sort only the
 * survivors. The full-sort draw sums probabilities in sorted order; this one
 * sums the total in index order, so it only commits to a cutoff that is
 * farther from `topP` than the worst-case rounding difference between the two
 * orders, and otherwise defers (returns undefined) to the full sort.
 */
import { drawFromPrefix } from "./full-sort.ts"
import type { Uniform } from "./prng.ts"
import { massThreshold, topKIndices } from "./select.ts"

// Grow-only scratch buffers: one sampling call per generated token must not allocate vocabulary-sized arrays each time.
let logitScratch = new Float32Array(0)
let weightScratch = new Float64Array(0)
const float32Scratch = (n: number) => (logitScratch.length >= n ? logitScratch : (logitScratch = new Float32Array(n)))
const float64Scratch = (n: number) => (weightScratch.length >= n ? weightScratch : (weightScratch = new Float64Array(n)))

const idSlots = 2 ** 18
const bitsView = new Uint32Array(1)
const floatView = new Float32Array(bitsView.buffer)

/**
 * Candidate ids sorted by logit, largest first, ties by lower id — the
 * full-sort order. Each (logit, id) is packed into one exactly representable
 * double, (descending-order rank of the float32 bits) · 2^18 + id, so a native
 * numeric sort replaces a comparator callback; -0 counts as +0, as it does
 * for the comparator. Vocabularies past 2^18 ids use the comparator.
 */
const sortByLogit = (logits: Float32Array, ids: ArrayLike<number>): Array<number> => {
  if (logits.length > idSlots) return Array.from(ids).sort((a, b) => logits[b]! - logits[a]! || a - b)
  const keys = new Float64Array(ids.length)
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j]!
    floatView[0] = logits[id]! === 0 ? 0 : logits[id]!
    const bits = bitsView[0]!
    // Map float bits to an unsigned order (negatives reversed), then flip it for descending.
    const ascending = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0
    keys[j] = (0xffffffff - ascending) * idSlots + id
  }
  keys.sort()
  const out = new Array<number>(ids.length)
  for (let j = 0; j < ids.length; j++) out[j] = keys[j]! % idSlots
  return out
}

/**
 * Up to this k the full-sort draw never sorts the vocabulary: it keeps a short
 * sorted list in one pass, which beats any selection, so it handles those calls.
 */
const smallK = 128

/** Temperature-only draw over every token in id order, as the full-sort draw does, without boxed arrays. */
const drawFromAll = (n: number, weightOf: (id: number) => number, uniform: Uniform): number => {
  const weights = float64Scratch(n)
  let mass = 0
  for (let i = 0; i < n; i++) mass += weights[i] = weightOf(i)
  let target = uniform() * mass
  for (let i = 0; i < n; i++) {
    target -= weights[i]!
    if (target < 0) return i
  }
  return n - 1
}

/**
 * Draws like {@link drawByFullSort}, or returns undefined (having consumed no
 * randomness) when that path must decide: non-finite logits, no top-k/top-p
 * to apply, or a nucleus cutoff too close to call.
 */
export const drawBySelection = (logits: Float32Array, temperature: number, k: number, topP: number, uniform: Uniform): number | undefined => {
  const n = logits.length
  if (n === 0 || k <= smallK) return undefined
  let max = -Infinity
  for (let i = 0; i < n; i++) {
    const v = logits[i]!
    if (v !== v) return undefined // NaN: the comparator sort's order is what defines the answer.
    if (v > max) max = v
  }
  if (!Number.isFinite(max)) return undefined
  const weightOf = (id: number) => Math.exp((logits[id]! - max) / temperature)
  if (k >= n && topP >= 1) return drawFromAll(logits.length, weightOf, uniform)
  const candidates = k < n ? topKIndices(logits, k, float32Scratch(n)) : undefined
  const count = candidates ? candidates.length : n
  const idAt = (j: number) => (candidates ? candidates[j]! : j)
  if (topP >= 1) {
    const sorted = sortByLogit(logits, candidates!)
    return drawFromPrefix(sorted, sorted.map(weightOf), sorted.length, uniform)
  }
  if (topP <= 0) {
    // Every cutoff keeps just the most likely candidate; the draw still consumes one uniform.
    uniform()
    let best = idAt(0)
    for (let j = 1; j < count; j++) if (logits[idAt(j)]! > logits[best]!) best = idAt(j)
    return best
  }
  const weights = float64Scratch(2 * count)
  let total = 0
  for (let j = 0; j < count; j++) total += weights[j] = weightOf(idAt(j))
  if (!(total > 0 && Number.isFinite(total))) return undefined
  // Bound on |cumulative(index-order total) − cumulative(sorted-order total)|: both
  // totals are within γ_count of the exact sum, plus the rounding of the running sums.
  const slack = 4 * (count + 4) * Number.EPSILON
  const work = weights.subarray(count, 2 * count)
  work.set(weights.subarray(0, count))
  const threshold = massThreshold(work, count, (topP + 2 * slack) * total)
  if (threshold === undefined) return undefined
  // Weights are monotone in the logit, so `weight ≥ threshold` is a prefix of the full-sort order.
  const survivors: Array<number> = []
  for (let j = 0; j < count; j++) if (weights[j]! >= threshold) survivors.push(idAt(j))
  const sorted = sortByLogit(logits, survivors)
  const sortedWeights = sorted.map(weightOf)
  let cumulative = 0
  for (let i = 0; i < sorted.length; i++) {
    cumulative += sortedWeights[i]! / total
    if (cumulative >= topP - slack) return cumulative >= topP + slack ? drawFromPrefix(sorted, sortedWeights, i + 1, uniform) : undefined
  }
  return undefined
}
