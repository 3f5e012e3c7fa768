/**
 * Source positions of every key and value of a recipe document, addressed by
 * path (`["stages", "gen", "max_instructions"]`), so validation can point at
 * the exact line:column of any problem.
 */
import type { SourcePosition } from "./errors.ts"

/** A path into the recipe document: mapping keys and sequence indexes. */
export type DocPath = ReadonlyArray<string | number>

interface Located {
  readonly key?: SourcePosition
  readonly value?: SourcePosition
}

const pathKey = (path: DocPath): string => JSON.stringify(path)

/** Positions by document path; lookups fall back to the nearest located ancestor. */
export class PositionIndex {
  private readonly entries = new Map<string, Located>()

  constructor(private readonly fallback: SourcePosition) {}

  /** Records where the key and/or the value at `path` are written. */
  set(path: DocPath, located: Located): void {
    this.entries.set(pathKey(path), { ...this.entries.get(pathKey(path)), ...located })
  }

  /** Forgets every position at or under `prefix` (its value was replaced by an override). */
  clear(prefix: DocPath): void {
    const head = pathKey(prefix).slice(0, -1)
    for (const key of [...this.entries.keys()]) {
      if (key === pathKey(prefix) || key.startsWith(`${head},`)) this.entries.delete(key)
    }
  }

  /** Copies every position of `other` under `prefix` (positions of an override's value). */
  graft(prefix: DocPath, other: PositionIndex): void {
    for (const [key, located] of other.entries) this.entries.set(pathKey([...prefix, ...(JSON.parse(key) as DocPath)]), located)
  }

  /** Where the key at `path` is written (the value's position for sequence items). */
  keyAt(path: DocPath): SourcePosition {
    return this.find(path, (entry) => entry.key ?? entry.value)
  }

  /** Where the value at `path` starts. */
  valueAt(path: DocPath): SourcePosition {
    return this.find(path, (entry) => entry.value ?? entry.key)
  }

  private find(path: DocPath, pick: (entry: Located) => SourcePosition | undefined): SourcePosition {
    for (let length = path.length; length >= 0; length--) {
      const entry = this.entries.get(pathKey(path.slice(0, length)))
      const found = entry === undefined ? undefined : pick(entry)
      if (found !== undefined) return found
    }
    return this.fallback
  }
}
