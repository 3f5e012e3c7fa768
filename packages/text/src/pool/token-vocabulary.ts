/**
 * Interns token strings as dense integer ids, so texts become `Uint32Array`s: LCS compares
 * integers, masks are indexed by id, and worker threads receive transferable arrays instead of
 * strings.
 */
export class TokenVocabulary {
  private readonly idByToken = new Map<string, number>()

  /** Number of distinct tokens interned so far; every id is below it. */
  get size(): number {
    return this.idByToken.size
  }

  /** Ids of `tokens`, interning new ones. */
  intern(tokens: ReadonlyArray<string>): Uint32Array {
    const ids = new Uint32Array(tokens.length)
    for (let position = 0; position < tokens.length; position++) {
      const token = tokens[position]!
      let id = this.idByToken.get(token)
      if (id === undefined) {
        id = this.idByToken.size
        this.idByToken.set(token, id)
      }
      ids[position] = id
    }
    return ids
  }
}
