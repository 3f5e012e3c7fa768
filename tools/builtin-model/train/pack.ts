/**
 * Packs tokenised documents into fixed [rows, length] training batches:
 * whole documents, each followed by `<|endoftext|>`, laid end to end in a row
 * (first fit from a small waiting list, so rows fill up). Each document keeps
 * its own positions (from 0) and attends only to itself, exactly as a prompt
 * does at inference.
 */

/** One packed row: tokens, per-token document index (-1 = padding) and position within its document. */
export interface PackedRow {
  readonly tokens: Array<number>
  readonly documents: Array<number>
  readonly positions: Array<number>
}

/** Documents waiting for a row with room (at most this many before a row is closed). */
const WAITING = 8

/** Pulls documents (token ids, already ending in `<|endoftext|>`) from `pending`, then `next`, until `rows` rows of `length` are full. */
export const packBatch = (next: () => ReadonlyArray<number>, rows: number, length: number, pending: Array<ReadonlyArray<number>>): Array<PackedRow> => {
  const batch: Array<PackedRow> = []
  for (let r = 0; r < rows; r++) {
    const row: PackedRow = { tokens: [], documents: [], positions: [] }
    let doc = 0
    for (;;) {
      const room = length - row.tokens.length
      let at = pending.findIndex((ids) => ids.length <= room)
      if (at < 0) {
        if (pending.length >= WAITING) break
        const ids = next()
        if (ids.length > length) continue // longer than a row: skipped (the corpus keeps documents shorter)
        pending.push(ids)
        if (ids.length > room) continue
        at = pending.length - 1
      }
      const ids = pending.splice(at, 1)[0]!
      ids.forEach((id, k) => {
        row.tokens.push(id)
        row.documents.push(doc)
        row.positions.push(k)
      })
      doc++
    }
    batch.push(row)
  }
  return batch
}
