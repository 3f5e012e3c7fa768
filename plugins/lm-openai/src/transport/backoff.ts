/**
 * Retry timing: exponential backoff with jitter, and `Retry-After` parsing
 * (seconds or an HTTP date).
 *
 * @example
 * ```ts
 * import { backoffMs, retryAfterMs } from "@refine-af/lm-openai"
 * const wait = backoffMs(2, { baseMs: 100, maxMs: 5000 }) // 200..400 ms
 * const server = retryAfterMs("3") // 3000
 * ```
 */

/** Delay before retry `attempt` (0-based): `base · 2^attempt` capped at `max`, scaled by a random factor in [0.5, 1) ("equal jitter", so clients that failed together spread out). */
export const backoffMs = (attempt: number, policy: { readonly baseMs: number; readonly maxMs: number }, random: () => number = Math.random): number =>
  Math.min(policy.maxMs, policy.baseMs * 2 ** attempt) * (0.5 + random() / 2)

/** A `Retry-After` header value in milliseconds, or undefined when absent or unreadable. */
export const retryAfterMs = (header: string | null | undefined, now: number = Date.now()): number | undefined => {
  if (header == null || header.trim() === "") return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
