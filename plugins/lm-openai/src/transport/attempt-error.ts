/**
 * The outcome of one failed HTTP attempt, classified for the retry loop:
 * connection errors, timeouts, 429, 5xx and unreadable bodies are retryable;
 * other 4xx are not (the request itself is wrong). Messages never carry
 * request headers, so API keys cannot leak through them.
 *
 * @example
 * ```ts
 * import { AttemptFailure } from "@refine-af/lm-openai"
 * const failure = new AttemptFailure("timeout", "no response within 1000 ms", true)
 * ```
 */

export type AttemptKind = "connection" | "timeout" | "status" | "malformed" | "truncated"

export class AttemptFailure extends Error {
  constructor(
    readonly kind: AttemptKind,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** From the server's `Retry-After`. */
    readonly retryAfterMs?: number
  ) {
    super(message)
  }

  /** Whether the server itself answered (an error status, or a body that is unusable): its answer, not a network failure. */
  get answered(): boolean {
    return this.kind === "status" || this.kind === "malformed"
  }

  /** Failures that say the endpoint is unhealthy (not just busy): they count toward its circuit breaker. */
  get unhealthy(): boolean {
    return this.kind !== "status" || (this.status !== undefined && this.status >= 500)
  }
}

/** The start of a response body for a message: whitespace collapsed, at most `max` characters (then "…"). */
export const bodyExcerpt = (text: string, max = 200): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  if (flat === "") return "(empty body)"
  return flat.length > max ? `${flat.slice(0, max)}…` : flat
}

/** A URL without credentials, query or trailing slash: safe to print. */
export const safeUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`
  } catch {
    return "<invalid url>"
  }
}
