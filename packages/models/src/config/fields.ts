/**
 * A tiny field reader for JSON config objects that collects every problem
 * instead of stopping at the first, so one error lists all bad fields.
 */

/** Reads typed fields from a JSON object, recording problems. */
export class FieldReader {
  readonly problems: Array<string> = []
  constructor(private readonly json: Readonly<Record<string, unknown>>) {}

  /** True when the key is present and not null. */
  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null
  }

  /** A positive integer (required unless `fallback` is given). */
  positiveInt(key: string, fallback?: number): number {
    const value = this.json[key] ?? fallback
    if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value
    this.problems.push(value === undefined ? `"${key}" is missing (a positive integer)` : `"${key}" is ${JSON.stringify(value)}, expected a positive integer`)
    return 1
  }

  /** A positive finite number (required unless `fallback` is given). */
  positiveNumber(key: string, fallback?: number): number {
    const value = this.json[key] ?? fallback
    if (typeof value === "number" && Number.isFinite(value) && value > 0) return value
    this.problems.push(value === undefined ? `"${key}" is missing (a positive number)` : `"${key}" is ${JSON.stringify(value)}, expected a positive number`)
    return 1
  }

  /** A boolean with a default. */
  bool(key: string, fallback: boolean): boolean {
    const value = this.json[key] ?? fallback
    if (typeof value === "boolean") return value
    this.problems.push(`"${key}" is ${JSON.stringify(value)}, expected true or false`)
    return fallback
  }

  /** A token id, or null when absent. */
  tokenId(key: string): number | null {
    const value = this.json[key]
    if (value === undefined || value === null) return null
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value
    this.problems.push(`"${key}" is ${JSON.stringify(value)}, expected a non-negative integer token id`)
    return null
  }

  /** One or several token ids (HF allows `eos_token_id: 2` or `[2, 32000]`). */
  tokenIds(key: string): Array<number> {
    const value = this.json[key]
    if (value === undefined || value === null) return []
    const list = Array.isArray(value) ? value : [value]
    if (list.every((id) => typeof id === "number" && Number.isSafeInteger(id) && id >= 0)) return list as Array<number>
    this.problems.push(`"${key}" is ${JSON.stringify(value)}, expected a token id or a list of token ids`)
    return []
  }

  /** An optional finite number. */
  optionalNumber(key: string): number | undefined {
    const value = this.json[key]
    if (value === undefined || value === null) return undefined
    if (typeof value === "number" && Number.isFinite(value)) return value
    this.problems.push(`"${key}" is ${JSON.stringify(value)}, expected a number`)
    return undefined
  }
}

/** True for a plain JSON object. */
export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
