import { lcsLengthDP, rougeLFMeasure, rougeTokenize } from "../src/index.ts"

/**
 * The plain Self-Instruct filter loop the pool is measured against: token lists computed once
 * per text (kinder than Self-Instruct's Python, which re-tokenizes the pool per candidate),
 * then the classic DP ROUGE-L of the candidate against every pool text. `internIds` maps tokens
 * to integers first, a stronger baseline than comparing strings in the DP inner loop.
 */
export class DpBaselinePool {
  private readonly pool: Array<ArrayLike<string | number>>
  private readonly ids = new Map<string, number>()

  constructor(texts: ReadonlyArray<string>, private readonly internIds = false) {
    this.pool = texts.map((text) => this.tokens(text))
  }

  /** Decides one candidate like `RougePool.filterBatch`, adding it when accepted. */
  filter(candidate: string, threshold: number): { accepted: boolean; maxScore: number } {
    const tokens = this.tokens(candidate)
    let maxScore = 0
    for (const text of this.pool) maxScore = Math.max(maxScore, rougeLFMeasure(lcsLengthDP(tokens, text), tokens.length, text.length))
    const accepted = !(maxScore > threshold)
    if (accepted) this.pool.push(tokens)
    return { accepted, maxScore }
  }

  private tokens(text: string): ArrayLike<string | number> {
    const tokens = rougeTokenize(text)
    if (!this.internIds) return tokens
    return Int32Array.from(tokens, (token) => this.ids.get(token) ?? this.ids.set(token, this.ids.size).size - 1)
  }
}
