/**
 * GPT-2's byte-level alphabet and pre-tokenizer, as Hugging Face's
 * `ByteLevel` pre-tokenizer applies them: text splits into words (a leading
 * space stays with its word), and each UTF-8 byte maps to one printable
 * character, so BPE never sees an unknown symbol.
 */

/** The byte → printable-character table (printable Latin-1 bytes map to themselves, the rest to U+0100 and up). */
export const byteToChar: ReadonlyArray<string> = (() => {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)
  const table = new Array<string>(256)
  let next = 0
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(keep(b) ? b : 256 + next++)
  return table
})()

/** GPT-2's split pattern (the one `ByteLevel` uses when `use_regex` is true). */
export const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

const encoder = new TextEncoder()

/** The words of `text`, each as its byte-level characters. */
export const preTokenize = (text: string): Array<string> =>
  (text.match(PRETOKENIZE) ?? []).map((word) => Array.from(encoder.encode(word), (b) => byteToChar[b]!).join(""))
