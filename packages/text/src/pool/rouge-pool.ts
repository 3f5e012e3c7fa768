import { rougeTokenize } from "../metrics/rouge-tokenize.ts"
import { type FilterBatchOptions, type PoolQueryOptions, queryNeeds, requireCount } from "./pool-options.ts"
import { PoolShard, type ShardQueryNeeds, type ShardScores, topKOf } from "./pool-shard.ts"
import { TokenVocabulary } from "./token-vocabulary.ts"
import { mergeShardScores, ShardWorkers } from "./workers/shard-workers.ts"

/** Options of `new RougePool`. */
export interface RougePoolOptions {
  /** Porter-stem tokens as SuperNI does. Self-Instruct deduplication uses no stemming (default false). */
  readonly stem?: boolean
  /**
   * Worker threads for the async methods (`queryAsync`, `filterBatchAsync`); 0 (default) keeps
   * everything on the calling thread. Pays off for pools of many thousands of texts. Call
   * `close()` when done.
   */
  readonly workers?: number
}

/** A pool entry near a query. */
export interface PoolNeighbour {
  readonly index: number
  readonly text: string
  /** ROUGE-L F-measure, bit-identical to rouge_score. */
  readonly score: number
}

/** Answer to "is this text a near-duplicate of something in the pool?". */
export interface PoolQueryResult {
  /**
   * Exact max ROUGE-L F over the pool (0 for an empty pool or a text with no tokens). With
   * `decisionOnly`, exact only when `exceeds`, `NaN` otherwise.
   */
  readonly maxScore: number
  /** `maxScore > threshold` (strict, as Self-Instruct's `> 0.7`). */
  readonly exceeds: boolean
  /** Up to `topK` nearest entries, best first (ties: earlier entry first); entries scoring 0 are not listed. */
  readonly top: ReadonlyArray<PoolNeighbour>
}

/** Outcome for one candidate of `filterBatch`. */
export interface FilterDecision extends PoolQueryResult {
  readonly candidate: string
  /** `!exceeds`: the candidate was added to the pool. */
  readonly accepted: boolean
  /** The candidate's pool index when accepted, −1 otherwise. */
  readonly index: number
  /**
   * Mean F over the pool as it stood before this candidate (0 if empty); only with
   * `meanSimilarity: true`. Every term is exact; the summation order (and so the last bit) can
   * differ between worker and single-thread mode, like numpy's pairwise `mean` differs from a loop.
   */
  readonly meanSimilarity?: number
}

/**
 * Near-duplicate index for Self-Instruct: exact ROUGE-L (rouge_score tokenization, bit-identical
 * F-measure) of a text against every pool entry, made fast by interned token ids, an inverted
 * index, upper bounds that skip pairs which cannot matter, and bit-parallel LCS.
 *
 * Async calls are queued one after another; do not call the sync mutators (`add`,
 * `filterBatch`) while an async call is still pending, or its batch would miss those entries.
 *
 * @example
 * ```ts
 * import { RougePool } from "@refine-af/text"
 * const pool = new RougePool()
 * pool.add("Write a poem about the sea.")
 * const [decision] = pool.filterBatch(["Write a poem about the ocean."], { threshold: 0.7, topK: 10 })
 * decision?.accepted // false: 5 of 6 tokens in order, F = 0.833 > 0.7
 * ```
 */
export class RougePool {
  private readonly stem: boolean
  private readonly vocabulary = new TokenVocabulary()
  private readonly shard = new PoolShard()
  private readonly texts: Array<string> = []
  private readonly workers: ShardWorkers | undefined
  // Async calls run one after another: a batch must see every entry accepted by the batch before it.
  private asyncTail: Promise<unknown> = Promise.resolve()

  constructor(options: RougePoolOptions = {}) {
    this.stem = options.stem ?? false
    const workers = requireCount("workers", options.workers ?? 0, 0)
    this.workers = workers > 0 ? new ShardWorkers(workers) : undefined
  }

  /** Number of texts in the pool. */
  get size(): number {
    return this.texts.length
  }

  /** The text at a pool index. */
  text(index: number): string | undefined {
    return this.texts[index]
  }

  /** Adds a text unconditionally and returns its pool index. */
  add(text: string): number {
    return this.addTokenized(text, this.tokenize(text))
  }

  /** Scores `text` against the pool (the pool is not changed). */
  query(text: string, options: PoolQueryOptions): PoolQueryResult {
    return this.describe(this.shard.score(this.tokenize(text), queryNeeds(options)), options.threshold)
  }

  /**
   * Self-Instruct's filter over a batch, in order: a candidate is accepted (and added) when its
   * max ROUGE-L against the pool, including candidates accepted earlier in the same batch, is
   * not above `threshold`.
   */
  filterBatch(candidates: ReadonlyArray<string>, options: FilterBatchOptions): Array<FilterDecision> {
    const needs = queryNeeds(options)
    return candidates.map((candidate) => {
      const ids = this.tokenize(candidate)
      return this.decide(candidate, ids, this.shard.score(ids, needs), options)
    })
  }

  /** `query` on the worker threads (same result); on the calling thread when `workers` is 0. */
  queryAsync(text: string, options: PoolQueryOptions): Promise<PoolQueryResult> {
    const needs = queryNeeds(options)
    const workers = this.workers
    if (workers === undefined) return this.serialized(async () => this.query(text, options))
    return this.serialized(async () => {
      const [scores] = await workers.score([this.tokenize(text)], needs)
      return this.describe(scores!, options.threshold)
    })
  }

  /**
   * `filterBatch` on the worker threads, same decisions: the workers score the whole batch
   * against the pool as it stood, then this thread scores each candidate against the ones
   * accepted before it in the batch and merges the two exactly.
   */
  filterBatchAsync(candidates: ReadonlyArray<string>, options: FilterBatchOptions): Promise<Array<FilterDecision>> {
    const needs = queryNeeds(options)
    const workers = this.workers
    if (workers === undefined) return this.serialized(async () => this.filterBatch(candidates, options))
    return this.serialized(() => this.filterBatchOnWorkers(workers, candidates, options, needs))
  }

  /** Stops the worker threads (no-op without workers). The pool stays usable on the calling thread. */
  async close(): Promise<void> {
    await this.workers?.close()
  }

  private serialized<A>(run: () => Promise<A>): Promise<A> {
    const result = this.asyncTail.then(run)
    this.asyncTail = result.catch(() => undefined)
    return result
  }

  private async filterBatchOnWorkers(
    workers: ShardWorkers,
    candidates: ReadonlyArray<string>,
    options: FilterBatchOptions,
    needs: ShardQueryNeeds
  ): Promise<Array<FilterDecision>> {
    const tokenized = candidates.map((candidate) => this.tokenize(candidate))
    const againstPool = await workers.score(tokenized, needs)
    const acceptedInBatch = new PoolShard()
    return candidates.map((candidate, k) => {
      const ids = tokenized[k]!
      const merged = mergeShardScores([againstPool[k]!, acceptedInBatch.score(ids, needs)], topKOf(needs))
      const decision = this.decide(candidate, ids, merged, options)
      if (decision.accepted) acceptedInBatch.add(decision.index, ids)
      return decision
    })
  }

  private tokenize(text: string): Uint32Array {
    return this.vocabulary.intern(rougeTokenize(text, { stem: this.stem }))
  }

  private addTokenized(text: string, ids: Uint32Array): number {
    const index = this.texts.length
    this.texts.push(text)
    this.shard.add(index, ids)
    this.workers?.add(index, ids)
    return index
  }

  private decide(candidate: string, ids: Uint32Array, scores: ShardScores, options: FilterBatchOptions): FilterDecision {
    const poolSize = this.texts.length
    const result = this.describe(scores, options.threshold)
    const index = result.exceeds ? -1 : this.addTokenized(candidate, ids)
    const decision = { ...result, candidate, accepted: !result.exceeds, index }
    return options.meanSimilarity === true
      ? { ...decision, meanSimilarity: poolSize === 0 ? 0 : scores.scoreSum / poolSize }
      : decision
  }

  private describe(scores: ShardScores, threshold: number): PoolQueryResult {
    return {
      maxScore: scores.maxScore,
      exceeds: scores.maxScore > threshold,
      top: scores.top.map(({ index, score }) => ({ index, text: this.texts[index]!, score }))
    }
  }
}
