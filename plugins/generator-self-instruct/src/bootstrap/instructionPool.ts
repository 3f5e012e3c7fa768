/**
 * The growing pool of instructions (seeds + accepted) and the ROUGE-L novelty
 * check against it: a candidate is too similar when its ROUGE-L F-measure
 * (rouge_score tokenisation, no stemming) against any pooled instruction is
 * above the threshold.
 *
 * @example
 * ```ts
 * import { InstructionPool } from "./instructionPool.ts"
 * const pool = new InstructionPool({ threshold: 0.7, neighbours: 10 })
 * pool.add("Sort the numbers in ascending order.")
 * pool.screen("Sort these numbers in ascending order.").tooSimilar // true
 * ```
 */
import { lcsLengthDP, rougeLFromLcs, rougeTokenize } from "@refine-af/text"

/** A pooled instruction and its ROUGE-L F-measure against a candidate. */
export interface SimilarInstruction {
  readonly instruction: string
  readonly score: number
}

/** The novelty verdict on one candidate. */
export interface PoolScreening {
  /** True when some pooled instruction scores above the threshold (the candidate is dropped). */
  readonly tooSimilar: boolean
  /** The most similar pooled instructions, best first (ties keep pool order). */
  readonly neighbours: ReadonlyArray<SimilarInstruction>
  /** Mean F-measure over the whole pool (0 for an empty pool). */
  readonly meanSimilarity: number
}

export interface InstructionPoolOptions {
  /** Drop candidates scoring strictly above this (0.7). */
  readonly threshold: number
  /** How many nearest pooled instructions to keep per accepted candidate (10). */
  readonly neighbours: number
}

/** Seeds + accepted instructions with exact ROUGE-L screening of new candidates. */
export class InstructionPool {
  private readonly texts: Array<string> = []
  private readonly tokens: Array<ReadonlyArray<string>> = []

  constructor(readonly options: InstructionPoolOptions) {}

  /** Number of pooled instructions. */
  get size(): number {
    return this.texts.length
  }

  /** Adds an instruction to the pool. */
  add(instruction: string): void {
    this.texts.push(instruction)
    this.tokens.push(rougeTokenize(instruction))
  }

  /** Scores `candidate` against every pooled instruction. */
  screen(candidate: string): PoolScreening {
    const candidateTokens = rougeTokenize(candidate)
    const scores = this.tokens.map(
      (pooled) => rougeLFromLcs(lcsLengthDP(candidateTokens, pooled), candidateTokens.length, pooled.length).fmeasure
    )
    const order = scores.map((_, index) => index).sort((a, b) => scores[b]! - scores[a]! || a - b)
    const neighbours = order
      .slice(0, this.options.neighbours)
      .map((index) => ({ instruction: this.texts[index]!, score: scores[index]! }))
    const meanSimilarity = scores.length === 0 ? 0 : scores.reduce((sum, score) => sum + score, 0) / scores.length
    return { tooSimilar: scores.some((score) => score > this.options.threshold), neighbours, meanSimilarity }
  }
}
