/**
 * Fast top-k / top-p draw that picks exactly the token {@link drawByFullSort}
 * would, without sorting the vocabulary: select the top-k set in linear time,
 * find the nucleus by a mass-weighted quickselect, and sort only the
 * survivors. The full-sort draw sums probabilities in sorted order; this one
 * sums the total in index order, so it only commits to a cutoff that is
 * farther from `topP` than the worst-case rounding difference between the two
 * orders, and otherwise defers (returns undefined) to the full sort.
 *
 * Sums over the whole vocabulary use {@link fastExp} (twice as fast as
 * `Math.exp`) wherever an error bound can decide: the total and the nucleus's
 * bucket masses (the slack grows by fastExp's bound), and the temperature-only
 * draw (checked against a margin, redone with `Math.exp` when too close).
 * Weights that enter a draw or the cut itself are `Math.exp`'s, as in the full sort.
 */
import { drawFromPrefix } from "./full-sort.ts"
import type { Uniform } from "./prng.ts"
import { fastExp, fastExpWeights, fastSumMargin } from "./fast-exp.ts"
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

/**
 * Temperature-only draw over every token in id order, as the full-sort draw
 * does (sequential subtraction of `Math.exp` weights from u · their sum),
 * without boxed arrays. The weights come from {@link fastExp}: the draw
 * commits to the token where the fast running difference crosses zero only
 * when it lies more than {@link fastSumMargin} from zero on both sides, which
 * proves the `Math.exp` computation crosses at the same token; otherwise it
 * redoes the draw with `Math.exp` and the same u. The margin is ~8·n·ε of
 * the mass, so u lands that close to one of the n boundaries in at most about
 * 16·n²·ε of the draws: 1 in 12,000 at 151,936 tokens, 1 in 280,000 at 32,000.
 */
const drawFromAll = (logits: Float32Array, max: number, temperature: number, uniform: Uniform): number => {
  const n = logits.length
  const weights = float64Scratch(n)
  const mass = fastExpWeights(logits, max, temperature, weights)
  const u = uniform()
  const margin = fastSumMargin(n, mass)
  let target = u * mass
  for (let i = 0; i < n - 1; i++) {
    const before = target
    target -= weights[i]!
    if (target < 0) return before >= margin && target < -margin ? i : drawFromAllExactly(logits, max, temperature, u)
  }
  // No crossing before the last token: the exact draw returns n − 1 too, unless it crossed earlier.
  return target >= margin ? n - 1 : drawFromAllExactly(logits, max, temperature, u)
}

/** {@link drawFromAll} with `Math.exp` weights and a given u: the definition the fast path must match. */
const drawFromAllExactly = (logits: Float32Array, max: number, temperature: number, u: number): number => {
  const n = logits.length
  const weights = float64Scratch(n)
  let mass = 0
  for (let i = 0; i < n; i++) mass += weights[i] = Math.exp((logits[i]! - max) / temperature)
  let target = u * mass
  for (let i = 0; i < n; i++) {
    target -= weights[i]!
    if (target < 0) return i
  }
  return n - 1
}

/**
 * The top-k candidates whose weight reaches the mass threshold of `need`, widened to every
 * candidate with a logit at least as high: a prefix of the full-sort order (fastExp need not be monotone).
 */
const survivorsByThreshold = (logits: Float32Array, candidates: Int32Array, weights: Float64Array, need: number): Array<number> | undefined => {
  const count = candidates.length
  const work = weights.subarray(count, 2 * count)
  work.set(weights.subarray(0, count))
  const threshold = massThreshold(work, count, need)
  if (threshold === undefined) return undefined
  let lowestKept = Infinity
  for (let j = 0; j < count; j++) if (weights[j]! >= threshold && logits[candidates[j]!]! < lowestKept) lowestKept = logits[candidates[j]!]!
  const survivors: Array<number> = []
  for (let j = 0; j < count; j++) if (logits[candidates[j]!]! >= lowestKept) survivors.push(candidates[j]!)
  return survivors
}

/** Buckets per nat of (logit − max) / temperature, and how many (the last also takes everything below). */
const BUCKETS_PER_NAT = 8
const BUCKETS = 64 * BUCKETS_PER_NAT + 1
const bucketMass = new Float64Array(BUCKETS)
const bucketOf = (logit: number, max: number, temperature: number): number => {
  const depth = ((max - logit) / temperature) * BUCKETS_PER_NAT
  return depth < BUCKETS - 1 ? depth | 0 : BUCKETS - 1
}

/**
 * Every token whose bucket lies at or above the bucket where the buckets' mass,
 * summed from the top, reaches `need`: a prefix of the full-sort order (buckets
 * are monotone in the logit) that holds the nucleus, found in two passes instead
 * of a mass-weighted quickselect over the vocabulary.
 */
const survivorsByBucket = (logits: Float32Array, max: number, temperature: number, weights: Float64Array, need: number): Array<number> | undefined => {
  bucketMass.fill(0)
  for (let i = 0; i < logits.length; i++) bucketMass[bucketOf(logits[i]!, max, temperature)]! += weights[i]!
  let reached = 0
  let last = 0
  while (last < BUCKETS && (reached += bucketMass[last]!) < need) last++
  if (last === BUCKETS) return undefined
  const survivors: Array<number> = []
  for (let i = 0; i < logits.length; i++) if (bucketOf(logits[i]!, max, temperature) <= last) survivors.push(i)
  return survivors
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
  if (k >= n && topP >= 1) return drawFromAll(logits, max, temperature, uniform)
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
  // The survivors come from fastExp weights, chosen by logit (a prefix of the full-sort order even where
  // fastExp is not monotone) and weighed with Math.exp for the cut and the draw.
  const weights = float64Scratch(2 * count)
  let total = 0
  if (candidates) for (let j = 0; j < count; j++) total += weights[j] = fastExp((logits[candidates[j]!]! - max) / temperature)
  else total = fastExpWeights(logits, max, temperature, weights)
  if (!(total > 0 && Number.isFinite(total))) return undefined
  // Bound on |cumulative(fast index-order total) − cumulative(sorted-order Math.exp total)|: the
  // rounding of both totals and the running sums, and fastExp's error on every term.
  const slack = 4 * (count + 4) * Number.EPSILON + fastSumMargin(count, total) / total
  const need = (topP + 2 * slack) * total
  const survivors = candidates ? survivorsByThreshold(logits, candidates, weights, need) : survivorsByBucket(logits, max, temperature, weights, need)
  if (survivors === undefined) return undefined
  const sorted = sortByLogit(logits, survivors)
  const sortedWeights = sorted.map(weightOf)
  let cumulative = 0
  for (let i = 0; i < sorted.length; i++) {
    cumulative += sortedWeights[i]! / total
    if (cumulative >= topP - slack) return cumulative >= topP + slack ? drawFromPrefix(sorted, sortedWeights, i + 1, uniform) : undefined
  }
  return undefined
}
