/**
 * The arithmetic of a composite reward: `r = bias + Σ weightᵢ · normᵢ(termᵢ)`,
 * where a term is a scorer's value or one of its named parts, and `normᵢ` is
 * the identity, a fixed `(x - mean) / std`, or a running standardisation
 * (mean and population std of every value the term has seen so far, this batch
 * included). Every row keeps its breakdown: each term's raw value, its
 * normalised value when normalised, its weighted contribution, and the bias.
 *
 * @example
 * ```ts
 * import { combineTerms, makeTermState } from "@refine-af/reward"
 * const terms = [{ name: "Nat", slot: "quality", part: "naturalness", weight: 0.5 }]
 * combineTerms(terms, 0.1, [{ Nat: 0.8 }], makeTermState(terms)) // [{ value: 0.5, parts: { Nat: 0.8, "Nat.weighted": 0.4, bias: 0.1 } }]
 * ```
 */
import type { Score } from "@refine-af/core"

/** How a term is normalised before weighting. */
/** The smallest standard deviation a running normalisation divides by, when `eps` is not given. */
export const runningNormEps = 1e-6

export type Normalisation =
  | { readonly kind: "fixed"; readonly mean: number; readonly std: number }
  | { readonly kind: "running"; readonly eps?: number | undefined }

/** One weighted term: a scorer slot's value (no `part`) or one of its parts. */
export interface Term {
  readonly name: string
  readonly slot: string
  readonly part?: string | undefined
  readonly weight: number
  readonly normalize?: Normalisation | undefined
}

/** Running statistics per term (Welford), carried across batches. */
export interface TermState {
  readonly running: Map<string, { n: number; mean: number; m2: number }>
}

export const makeTermState = (terms: ReadonlyArray<Term>): TermState => ({
  running: new Map(terms.filter((t) => t.normalize?.kind === "running").map((t) => [t.name, { n: 0, mean: 0, m2: 0 }]))
})

const observe = (stats: { n: number; mean: number; m2: number }, x: number): void => {
  stats.n += 1
  const delta = x - stats.mean
  stats.mean += delta / stats.n
  stats.m2 += delta * (x - stats.mean)
}

/**
 * Combines raw term values (one record per row, keyed by term name) into
 * composite scores. Running statistics are updated with the whole batch first.
 */
export const combineTerms = (
  terms: ReadonlyArray<Term>,
  bias: number,
  rows: ReadonlyArray<Readonly<Record<string, number>>>,
  state: TermState
): Array<Score> => {
  for (const term of terms) {
    const stats = state.running.get(term.name)
    if (stats !== undefined) for (const row of rows) observe(stats, row[term.name]!)
  }
  return rows.map((row) => {
    const parts: Record<string, number> = {}
    let value = bias
    for (const term of terms) {
      const raw = row[term.name]!
      parts[term.name] = raw
      let normalised = raw
      const norm = term.normalize
      if (norm?.kind === "fixed") normalised = (raw - norm.mean) / norm.std
      if (norm?.kind === "running") {
        const stats = state.running.get(term.name)!
        normalised = (raw - stats.mean) / Math.max(Math.sqrt(stats.m2 / stats.n), norm.eps ?? runningNormEps)
      }
      if (norm !== undefined) parts[`${term.name}.norm`] = normalised
      const contribution = term.weight * normalised
      parts[`${term.name}.weighted`] = contribution
      value += contribution
    }
    parts["bias"] = bias
    return { value, parts }
  })
}
