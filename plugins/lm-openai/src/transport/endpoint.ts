/**
 * One server's state as the client sees it: requests outstanding against
 * its concurrency limit, a `Retry-After` pause, and a circuit breaker. After
 * `failureThreshold` consecutive unhealthy failures the circuit opens and the
 * endpoint gets no traffic for `cooldownMs`; then it is half-open: exactly
 * one request probes it — success closes the circuit (traffic returns),
 * failure reopens it with twice the cooldown (up to `maxCooldownMs`).
 *
 * @example
 * ```ts
 * import { Endpoint } from "@refine-af/lm-openai"
 * const endpoint = new Endpoint({ url: "http://127.0.0.1:8000/v1", maxConcurrency: 16, headers: {} }, { failureThreshold: 3, cooldownMs: 2000, maxCooldownMs: 60000 })
 * ```
 */
import type { AttemptFailure } from "./attempt-error.ts"

/** Circuit breaker settings. */
export interface BreakerPolicy {
  readonly failureThreshold: number
  readonly cooldownMs: number
  readonly maxCooldownMs: number
}

/** Where and how to reach one server. */
export interface EndpointConfig {
  /** Base URL ending in `/v1`. */
  readonly url: string
  readonly maxConcurrency: number
  /** Extra request headers (the Authorization header lives here and nowhere else). */
  readonly headers: Readonly<Record<string, string>>
}

export type CircuitState = "closed" | "open" | "half-open"

export class Endpoint {
  outstanding = 0
  state: CircuitState = "closed"
  /** No request before this time (Retry-After or open circuit). */
  notBefore = 0
  /** Requests completed, for tests and benchmarks. */
  served = 0
  /** When the server last sent anything (0: it never has, since the client was made). */
  heardAt = 0
  /** The latest failure that counts against the circuit (for the messages when every endpoint is down). */
  lastFailure: AttemptFailure | undefined
  private failures = 0
  private cooldown: number
  private probing = false

  constructor(readonly config: EndpointConfig, private readonly breaker: BreakerPolicy) {
    this.cooldown = breaker.cooldownMs
  }

  /** Whether the one request probing an open circuit is in flight. */
  get probeInFlight(): boolean {
    return this.state === "half-open" && this.probing
  }

  /** Whether a request may start here at `now` (an open circuit past its cooldown admits one probe). */
  available(now: number): boolean {
    if (this.outstanding >= this.config.maxConcurrency || now < this.notBefore) return false
    if (this.state === "closed") return true
    return !this.probing
  }

  /** Marks a request started; returns true when it is the half-open probe. */
  start(): boolean {
    this.outstanding++
    if (this.state !== "closed") {
      this.state = "half-open"
      this.probing = true
      return true
    }
    return false
  }

  /** A request succeeded. Returns true when this closed an open circuit. */
  succeed(): boolean {
    this.outstanding--
    this.served++
    this.failures = 0
    const reopened = this.state !== "closed"
    this.state = "closed"
    this.probing = false
    this.cooldown = this.breaker.cooldownMs
    return reopened
  }

  /** A request failed. Returns true when this opened the circuit. */
  fail(options: { readonly unhealthy: boolean; readonly retryAfterMs?: number; readonly now: number }): boolean {
    this.outstanding--
    if (options.retryAfterMs !== undefined) this.notBefore = Math.max(this.notBefore, options.now + options.retryAfterMs)
    if (!options.unhealthy) {
      if (this.state === "half-open") this.probing = false
      return false
    }
    this.failures++
    // Requests started before the circuit opened fail too; they do not reopen it.
    if (this.state === "open") return false
    if (this.state === "half-open" || this.failures >= this.breaker.failureThreshold) {
      const wasProbe = this.state === "half-open"
      if (wasProbe) this.cooldown = Math.min(this.breaker.maxCooldownMs, this.cooldown * 2)
      this.state = "open"
      this.probing = false
      this.notBefore = Math.max(this.notBefore, options.now + this.cooldown)
      return !wasProbe
    }
    return false
  }

  /** A request was abandoned (caller interrupted): frees the slot without judging the server. */
  abandon(): void {
    this.outstanding--
    if (this.state === "half-open") this.probing = false
  }
}
