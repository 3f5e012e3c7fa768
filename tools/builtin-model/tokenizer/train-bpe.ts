/**
 * Trains a byte-level BPE vocabulary: start from the 256 byte symbols, then
 * repeatedly merge the most frequent adjacent pair (ties broken by the pair's
 * text, so training is deterministic) until the vocabulary is full.
 *
 * @example
 * ```ts
 * import { trainBpe } from "./train-bpe.ts"
 * const { merges } = trainBpe(["the cat", "the hat"], 260)
 * merges[0] // "Ġ t" or similar: the most frequent pair first
 * ```
 */
import { byteToChar, preTokenize } from "./byte-level.ts"

/** A trained vocabulary: symbols by id (bytes first, then merges in order) and the merge list ("a b"). */
export interface Bpe {
  readonly vocab: ReadonlyArray<string>
  readonly merges: ReadonlyArray<string>
}

/** Learns merges until `vocabSize` symbols (256 bytes + merges) exist or no pair repeats. */
export const trainBpe = (texts: Iterable<string>, vocabSize: number): Bpe => {
  const counts = new Map<string, number>()
  for (const text of texts) for (const word of preTokenize(text)) counts.set(word, (counts.get(word) ?? 0) + 1)
  const words = [...counts.entries()].map(([word, count]) => ({ symbols: [...word], count }))
  const vocab = [...byteToChar]
  const merges: Array<string> = []
  while (vocab.length < vocabSize) {
    const pairs = new Map<string, number>()
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`
        pairs.set(key, (pairs.get(key) ?? 0) + count)
      }
    }
    let best = ""
    let bestCount = 1
    for (const [key, count] of pairs) if (count > bestCount || (count === bestCount && best !== "" && key < best)) [best, bestCount] = [key, count]
    if (best === "") break
    const [left, right] = best.split(" ") as [string, string]
    const merged = left + right
    for (const word of words) {
      const s = word.symbols
      if (s.length < 2) continue
      const out: Array<string> = []
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === left && s[i + 1] === right) {
          out.push(merged)
          i++
        } else out.push(s[i]!)
      }
      word.symbols = out
    }
    merges.push(best)
    vocab.push(merged)
  }
  return { vocab, merges }
}
