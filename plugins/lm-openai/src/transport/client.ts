/**
 * The fan-out client: each call picks an endpoint (least outstanding),
 * tries it, and on a retryable failure waits (exponential backoff with
 * jitter) and tries again — on another endpoint when there is one — up to
 * `maxAttempts`. Endpoint health feeds the circuit breakers; `Retry-After`
 * pauses the endpoint that sent it. Breaker transitions are reported through
 * `onEvent` (URLs without credentials).
 *
 * @example
 * ```ts
 * import { FanOutClient } from "@refine-af/lm-openai"
 * // const client = new FanOutClient(endpoints, { maxAttempts: 5, timeoutMs: 60000, backoff: { baseMs: 200, maxMs: 10000 } })
 * // const body = await client.call((endpoint, options) => requestJson(endpoint.config, "/completions", body, options), signal)
 * ```
 */
import { AttemptFailure, safeUrl } from "./attempt-error.ts"
import { backoffMs } from "./backoff.ts"
import type { Endpoint } from "./endpoint.ts"
import type { AttemptOptions } from "./http.ts"
import { EndpointPool } from "./pool.ts"

/** Retry settings. */
export interface RetryPolicy {
  readonly maxAttempts: number
  readonly timeoutMs: number
  readonly backoff: { readonly baseMs: number; readonly maxMs: number }
  /** Waiting requests fail once every endpoint has been down this long (default: wait for as long as retries last). */
  readonly giveUpMs?: number
}

/** A breaker transition, for the run's events. */
export interface EndpointEvent {
  readonly type: "endpoint_down" | "endpoint_up"
  readonly endpoint: string
  readonly reason?: string
}

/** Every attempt failed; `last` is the final failure. */
export class RetriesExhausted extends Error {
  constructor(readonly attempts: number, readonly last: AttemptFailure) {
    super(`${attempts} attempt(s) failed; last: ${last.message}`)
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(resolve, ms)
    signal.addEventListener("abort", () => {
      clearTimeout(timer)
      reject(signal.reason)
    }, { once: true })
  })

export class FanOutClient {
  readonly pool: EndpointPool

  constructor(readonly endpoints: ReadonlyArray<Endpoint>, readonly policy: RetryPolicy, private readonly onEvent: (event: EndpointEvent) => void = () => {}) {
    this.pool = new EndpointPool(endpoints, policy.giveUpMs)
  }

  /**
   * Runs `attempt` until it succeeds or fails for good. `retryIf` may veto a
   * retry (a stream that already emitted output must not be replayed).
   */
  async call<A>(attempt: (endpoint: Endpoint, options: AttemptOptions) => Promise<A>, signal: AbortSignal, retryIf: () => boolean = () => true): Promise<A> {
    let avoid: Endpoint | undefined
    for (let tried = 0; ; tried++) {
      const endpoint = await this.pool.acquire(avoid, signal)
      try {
        const result = await attempt(endpoint, { timeoutMs: this.policy.timeoutMs, signal })
        if (endpoint.succeed()) this.onEvent({ type: "endpoint_up", endpoint: safeUrl(endpoint.config.url) })
        this.pool.wake()
        return result
      } catch (error) {
        if (!(error instanceof AttemptFailure)) {
          endpoint.abandon()
          this.pool.wake()
          throw error
        }
        if (error.unhealthy) this.pool.lastFailure = error.message
        const opened = endpoint.fail({ unhealthy: error.unhealthy, now: Date.now(), ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }) })
        if (opened) this.onEvent({ type: "endpoint_down", endpoint: safeUrl(endpoint.config.url), reason: error.message })
        this.pool.wake()
        if (!error.retryable || !retryIf()) throw error
        if (tried + 1 >= this.policy.maxAttempts) throw new RetriesExhausted(tried + 1, error)
        avoid = endpoint
        await sleep(backoffMs(tried, this.policy.backoff), signal)
      }
    }
  }

  close(): void {
    this.pool.close()
  }
}
