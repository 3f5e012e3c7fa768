import { lcsLengthDP, rougeLFMeasure, rougeTokenize } from "../src/index.ts"

/**
 * The plain Self-Instruct filter loop the pool is measured against: token lists computed once
 * per text (kinder than Self-Instruct's Python, which re-tokenizes the pool per candidate),
 * then the classic DP ROUGE-L of the candidate against every pool text.
 */
export class DpBaselinePool {
  private readonly pool: Array<Array<string>>

  constructor(texts: ReadonlyArray<string>) {
    this.pool = texts.map((text) => rougeTokenize(text))
  }

  /** Decides one candidate like `RougePool.filterBatch`, adding it when accepted. */
  filter(candidate: string, threshold: number): { accepted: boolean; maxScore: number } {
    const tokens = rougeTokenize(candidate)
    let maxScore = 0
    for (const text of this.pool) maxScore = Math.max(maxScore, rougeLFMeasure(lcsLengthDP(tokens, text), tokens.length, text.length))
    const accepted = !(maxScore > threshold)
    if (accepted) this.pool.push(tokens)
    return { accepted, maxScore }
  }
}
