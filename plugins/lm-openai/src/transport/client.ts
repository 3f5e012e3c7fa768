/**
 * The fan-out client: each call picks an endpoint (least outstanding),
 * tries it, and on a retryable failure waits (exponential backoff with
 * jitter) and tries again — on another endpoint when there is one — up to
 * `maxAttempts`. Endpoint health feeds the circuit breakers; `Retry-After`
 * pauses the endpoint that sent it. Breaker transitions are reported through
 * `onEvent` (URLs without credentials), and so is an endpoint that has sent
 * nothing for `slowWarningMs` while requests wait on it (once per period and
 * endpoint, however many requests wait).
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
import type { EndpointEvent } from "./endpoint-event.ts"
import type { AttemptOptions } from "./http.ts"
import { EndpointPool, NoEndpointReached } from "./pool.ts"

/** Retry settings. */
export interface RetryPolicy {
  readonly maxAttempts: number
  readonly timeoutMs: number
  readonly backoff: { readonly baseMs: number; readonly maxMs: number }
  /** Waiting requests fail once every endpoint has been down this long (default: wait for as long as retries last). */
  readonly giveUpMs?: number
  /** Waiting requests fail at once when every endpoint failed to connect and none has ever answered (default false: wait as above). */
  readonly failWhenNeverReached?: boolean
  /** Report an `endpoint_slow` event when an endpoint has sent nothing this long while requests wait on it, and again each period (default: never). */
  readonly slowWarningMs?: number
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
  private readonly slowWarnedAt = new Map<Endpoint, number>()

  constructor(readonly endpoints: ReadonlyArray<Endpoint>, readonly policy: RetryPolicy, private readonly onEvent: (event: EndpointEvent) => void = () => {}) {
    this.pool = new EndpointPool(endpoints, policy.giveUpMs, policy.failWhenNeverReached)
  }

  /** Runs one attempt, reporting `endpoint_slow` while it waits in silence. */
  private async watched<A>(endpoint: Endpoint, run: () => Promise<A>): Promise<A> {
    const period = this.policy.slowWarningMs
    if (period === undefined || !Number.isFinite(period)) return run()
    const startedAt = Date.now()
    let timer: NodeJS.Timeout
    const check = () => {
      const now = Date.now()
      const silentMs = now - Math.max(startedAt, endpoint.heardAt)
      // Timers may fire a hair early; one warning per endpoint and period, however many requests wait.
      if (silentMs >= period * 0.95 && now - (this.slowWarnedAt.get(endpoint) ?? -Infinity) >= period * 0.95) {
        this.slowWarnedAt.set(endpoint, now)
        this.onEvent({ type: "endpoint_slow", endpoint: safeUrl(endpoint.config.url), silentMs, waiting: endpoint.outstanding, timeoutMs: this.policy.timeoutMs })
      }
      timer = setTimeout(check, period).unref()
    }
    timer = setTimeout(check, period).unref()
    try {
      return await run()
    } finally {
      clearTimeout(timer)
    }
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
        const result = await this.watched(endpoint, () => attempt(endpoint, { timeoutMs: this.policy.timeoutMs, signal, onData: () => (endpoint.heardAt = Date.now()) }))
        if (endpoint.succeed()) this.onEvent({ type: "endpoint_up", endpoint: safeUrl(endpoint.config.url) })
        this.pool.wake()
        return result
      } catch (error) {
        if (!(error instanceof AttemptFailure)) {
          endpoint.abandon()
          this.pool.wake()
          throw error
        }
        if (error.unhealthy) this.pool.lastFailure = endpoint.lastFailure = error
        const opened = endpoint.fail({ unhealthy: error.unhealthy, now: Date.now(), ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }) })
        if (opened) this.onEvent({ type: "endpoint_down", endpoint: safeUrl(endpoint.config.url), reason: error.message })
        this.pool.wake()
        if (!error.retryable || !retryIf()) throw error
        if (tried + 1 >= this.policy.maxAttempts) {
          const unreached = this.pool.neverReached()
          throw unreached === undefined ? new RetriesExhausted(tried + 1, error) : new NoEndpointReached(unreached)
        }
        avoid = endpoint
        await sleep(backoffMs(tried, this.policy.backoff), signal)
      }
    }
  }

  close(): void {
    this.pool.close()
  }
}
