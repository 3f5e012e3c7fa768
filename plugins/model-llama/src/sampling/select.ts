/**
 * Linear-time selection over logit / weight arrays, so that top-k and top-p
 * only ever sort the few tokens that survive instead of the whole vocabulary.
 * All routines work in place on a scratch copy with a three-way partition, so
 * long runs of equal values (masked `-Infinity` logits, underflowed weights)
 * cost one pass instead of degrading quickselect.
 */

type Numbers = Float32Array | Float64Array

/**
 * Splits `a[lo, hi)` around `pivot` into `[lo, greater)` > pivot,
 * `[greater, less)` = pivot and `[less, hi)` < pivot (descending order).
 */
const partitionDescending = (a: Numbers, lo: number, hi: number, pivot: number): readonly [greater: number, less: number] => {
  let greater = lo
  let less = hi
  let i = lo
  while (i < less) {
    const v = a[i]!
    if (v > pivot) {
      a[i] = a[greater]!
      a[greater++] = v
      i++
    } else if (v < pivot) {
      less--
      a[i] = a[less]!
      a[less] = v
    } else i++
  }
  return [greater, less]
}

const medianOfThree = (a: Numbers, lo: number, hi: number): number => {
  const x = a[lo]!
  const y = a[(lo + hi) >>> 1]!
  const z = a[hi - 1]!
  return x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y)
}

/**
 * The `rank`-th largest value (0-based) of `a[0, n)`, which must hold no NaN.
 * Reorders `a`.
 */
export const nthLargest = (a: Numbers, n: number, rank: number): number => {
  let lo = 0
  let hi = n
  for (;;) {
    const pivot = medianOfThree(a, lo, hi)
    const [greater, less] = partitionDescending(a, lo, hi, pivot)
    if (rank < greater) hi = greater
    else if (rank < less) return pivot
    else lo = less
  }
}

/**
 * Indices (ascending) of the `k` largest values of `values` (no NaN), ties at
 * the boundary resolved towards lower indices — the same set a stable
 * descending sort's first `k` entries would hold.
 */
export const topKIndices = (values: Float32Array, k: number, scratch: Float32Array): Int32Array => {
  scratch.set(values)
  const boundary = nthLargest(scratch, values.length, k - 1)
  let above = 0
  for (let i = 0; i < values.length; i++) if (values[i]! > boundary) above++
  let ties = k - above
  const out = new Int32Array(k)
  let at = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (v > boundary || (v === boundary && ties-- > 0)) out[at++] = i
  }
  return out
}

/**
 * The largest value `τ` among `weights[0, n)` (non-negative, finite) such that
 * the weights `≥ τ` sum to at least `need`, or undefined when even all of them
 * fall short. Reorders `weights`. Expected O(n): each round keeps one side.
 */
export const massThreshold = (weights: Float64Array, n: number, need: number): number | undefined => {
  let lo = 0
  let hi = n
  let above = 0
  while (lo < hi) {
    const pivot = medianOfThree(weights, lo, hi)
    const [greater, less] = partitionDescending(weights, lo, hi, pivot)
    let greaterMass = 0
    for (let i = lo; i < greater; i++) greaterMass += weights[i]!
    if (above + greaterMass >= need) {
      hi = greater
      continue
    }
    let equalMass = 0
    for (let i = greater; i < less; i++) equalMass += weights[i]!
    if (above + greaterMass + equalMass >= need) return pivot
    above += greaterMass + equalMass
    lo = less
  }
  return undefined
}
