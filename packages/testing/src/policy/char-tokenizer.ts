/**
 * The table policy's tokenizer: one token per character of a small alphabet,
 * after two specials (0 = end of sequence, 1 = beginning of sequence).
 */
import { Effect } from "effect"
import { PolicyError } from "@refine-af/training"

export const EOS = 0
export const BOS = 1

/** Lower-case letters, digits, space and a little punctuation. */
export const defaultAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789 .,!?:\n"

export interface CharTokenizer {
  readonly vocabSize: number
  readonly encode: (text: string) => Effect.Effect<ReadonlyArray<number>, PolicyError>
  /** Decodes ids, skipping the specials. */
  readonly decodeSync: (ids: ReadonlyArray<number>) => string
}

export const charTokenizer = (alphabet: string): CharTokenizer => {
  const chars = [...alphabet]
  const index = new Map(chars.map((c, i) => [c, i + 2]))
  return {
    vocabSize: chars.length + 2,
    encode: (text) =>
      Effect.suspend(() => {
        const ids: Array<number> = []
        for (const c of text) {
          const id = index.get(c)
          if (id === undefined)
            return Effect.fail(new PolicyError({ reason: "InvalidRequest", message: `character ${JSON.stringify(c)} is not in the table policy's alphabet ${JSON.stringify(alphabet)}`, fix: "use only alphabet characters (lower case) in test texts" }))
          ids.push(id)
        }
        return Effect.succeed(ids)
      }),
    decodeSync: (ids) => ids.filter((id) => id >= 2).map((id) => chars[id - 2] ?? "").join("")
  }
}
