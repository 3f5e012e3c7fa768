/**
 * The text of a data file a stage reads (JSONL records, seed tasks): UTF-8, with a leading byte
 * order mark dropped (editors on Windows write one; `JSON.parse` of the first line would fail on
 * an invisible character), and bytes that are not UTF-8 refused with where they are (Node's
 * `readFileSync(file, "utf8")` turns them into U+FFFD silently, and they would be trained on).
 *
 * @example
 * ```ts
 * import { decodeTextFile } from "@refine-af/core"
 * decodeTextFile(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])) // { text: "{}" }
 * "problem" in decodeTextFile(new Uint8Array([0x7b, 0xff])) // true: byte 2 (line 1) is not UTF-8
 * ```
 */

/** The decoded text, or what is wrong and where. */
export type DecodedText = { readonly text: string } | { readonly problem: string; readonly fix: string }

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
const firstInvalid = (bytes: Uint8Array): number => {
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i]!
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (length === 0 || i + length > bytes.length) return i
    for (let k = 1; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i
    // Overlong forms, surrogates and code points above U+10FFFF.
    const second = bytes[i + 1] ?? 0
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second > 0x9f) || (b === 0xf0 && second < 0x90) || (b === 0xf4 && second > 0x8f)) return i
    i += length
  }
  return -1
}

const fatal = new TextDecoder("utf-8", { fatal: true })

/** Decodes a data file's bytes as UTF-8 (see the module doc). */
export const decodeTextFile = (bytes: Uint8Array): DecodedText => {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  const body = bytes.subarray(start)
  try {
    return { text: fatal.decode(body) }
  } catch {
    const at = Math.max(0, firstInvalid(body))
    let line = 1
    for (let i = 0; i < at; i++) if (body[i] === 0x0a) line++
    const shown = Array.from(body.subarray(at, at + 4), (b) => `\\x${b.toString(16).padStart(2, "0")}`).join("")
    return {
      problem: `is not UTF-8 text: byte ${start + at + 1} (line ${line}) starts "${shown}"`,
      fix: "save the file as UTF-8 (e.g. iconv -f <its encoding> -t UTF-8), or remove the stray bytes"
    }
  }
}
