/**
 * Least-outstanding-requests balancing over {@link Endpoint}s: a request goes
 * to the available endpoint with the fewest requests in flight (ties: the one
 * used least recently), preferring one other than where its last attempt
 * failed. When every endpoint is full, paused or open, `acquire` waits until a
 * slot frees or a pause / cooldown ends — but once every endpoint's circuit
 * has been open for `giveUpMs` and no probe is in flight (its answer could
 * close a circuit), waiting requests fail
 * with {@link AllEndpointsDown} instead of waiting through ever longer
 * cooldowns (a server answering every request with a 500 would otherwise
 * hold a run for an hour of doubling probes, with nothing to say why).
 * With `failWhenNeverReached`, waiting requests fail at once with
 * {@link NoEndpointReached} when every circuit is open, no endpoint has ever
 * sent anything and each last failed to connect: a wrong URL or a server
 * not started fails in a second, not after `giveUpMs`.
 *
 * @example
 * ```ts
 * import { EndpointPool } from "@refine-af/lm-openai"
 * // const endpoint = await pool.acquire(undefined, signal); ... endpoint.succeed(); pool.wake()
 * ```
 */
import type { AttemptFailure } from "./attempt-error.ts"
import type { Endpoint } from "./endpoint.ts"

interface Waiter {
  readonly avoid: Endpoint | undefined
  readonly resolve: (endpoint: Endpoint) => void
  readonly reject: (error: unknown) => void
}

const distinctMessages = (failures: ReadonlyArray<AttemptFailure>) => [...new Set(failures.map((f) => f.message.replace(/\.$/, "")))].join("; ")

/**
 * Every endpoint's circuit has been open for the pool's `giveUpMs`;
 * `lastFailure` is the latest failure seen, `failures` each endpoint's last.
 * When every one of those is the server's own answer (an error status, a
 * body that is not the API's), the message says so instead of "down".
 */
export class AllEndpointsDown extends Error {
  readonly answered: boolean

  constructor(readonly downMs: number, readonly lastFailure: AttemptFailure | undefined, readonly failures: ReadonlyArray<AttemptFailure> = []) {
    const answered = failures.length > 0 && failures.every((f) => f.answered)
    const took = `${Math.round(downMs / 1000)} s`
    super(answered
      ? `for ${took} every endpoint has answered only with errors (the server's own answer, not a network failure): ${distinctMessages(failures)}`
      : `every endpoint has been down for ${took}${lastFailure === undefined ? "" : `; last failure: ${lastFailure.message}`}`)
    this.answered = answered
  }
}

/** No endpoint has sent anything since the client was made, and each last failed to connect (refused, unknown host, unreachable). */
export class NoEndpointReached extends Error {
  constructor(readonly failures: ReadonlyArray<AttemptFailure>) {
    super(`none has answered since the start, and each failed to connect: ${distinctMessages(failures)}`)
  }
}

export class EndpointPool {
  private readonly waiters: Array<Waiter> = []
  private readonly lastUsed = new Map<Endpoint, number>()
  private ticks = 0
  private timer: NodeJS.Timeout | undefined
  private timerAt = Infinity
  /** Since when every circuit has been open (undefined while one is closed). */
  private downSince: number | undefined
  /** The latest failure that counts against a circuit (for {@link AllEndpointsDown}); a 4xx would name the wrong cause. */
  lastFailure: AttemptFailure | undefined

  constructor(readonly endpoints: ReadonlyArray<Endpoint>, private readonly giveUpMs = Infinity, private readonly failWhenNeverReached = false) {}

  /** Each endpoint's last failure when none has ever sent anything and each last failed to connect; otherwise undefined. */
  neverReached(): ReadonlyArray<AttemptFailure> | undefined {
    const failures = this.endpoints.map((e) => (e.heardAt === 0 && e.lastFailure?.kind === "connection" ? e.lastFailure : undefined))
    return failures.every((f) => f !== undefined) ? failures : undefined
  }

  private pick(avoid: Endpoint | undefined, now: number): Endpoint | undefined {
    const open = this.endpoints.filter((e) => e.available(now))
    const preferred = open.length > 1 && avoid ? open.filter((e) => e !== avoid) : open
    let best: Endpoint | undefined
    for (const e of preferred) {
      if (best === undefined || e.outstanding < best.outstanding || (e.outstanding === best.outstanding && (this.lastUsed.get(e) ?? -1) < (this.lastUsed.get(best) ?? -1))) best = e
    }
    return best
  }

  private take(endpoint: Endpoint): Endpoint {
    endpoint.start()
    this.lastUsed.set(endpoint, this.ticks++)
    return endpoint
  }

  /** An endpoint with a free slot, marked started; waits if none is available. */
  acquire(avoid: Endpoint | undefined, signal: AbortSignal): Promise<Endpoint> {
    const now = Date.now()
    const endpoint = this.waiters.length === 0 ? this.pick(avoid, now) : undefined
    if (endpoint) return Promise.resolve(this.take(endpoint))
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { avoid, resolve, reject }
      this.waiters.push(waiter)
      signal.addEventListener("abort", () => {
        const index = this.waiters.indexOf(waiter)
        if (index >= 0) this.waiters.splice(index, 1)
        reject(signal.reason)
      }, { once: true })
      this.wake()
    })
  }

  /**
   * Hands free slots to waiters in arrival order, or fails them all once every
   * circuit has been open for `giveUpMs`; arms a timer for the next pause or
   * cooldown to end (or the give-up time).
   */
  wake(): void {
    const now = Date.now()
    if (this.endpoints.every((e) => e.state !== "closed")) this.downSince ??= now
    else this.downSince = undefined
    while (this.waiters.length > 0) {
      const endpoint = this.pick(this.waiters[0]!.avoid, now)
      if (!endpoint) break
      this.waiters.shift()!.resolve(this.take(endpoint))
    }
    if (this.waiters.length === 0) return
    // Nothing in flight could still answer, and nothing ever did: a wrong URL or a server not started.
    const unreached = this.failWhenNeverReached && this.downSince !== undefined && this.endpoints.every((e) => e.outstanding === 0) ? this.neverReached() : undefined
    if (unreached !== undefined) {
      const error = new NoEndpointReached(unreached)
      for (const waiter of this.waiters.splice(0)) waiter.reject(error)
      return
    }
    if (this.downSince !== undefined && now - this.downSince >= this.giveUpMs && !this.endpoints.some((e) => e.probeInFlight)) {
      const error = new AllEndpointsDown(now - this.downSince, this.lastFailure, this.endpoints.flatMap((e) => (e.lastFailure === undefined ? [] : [e.lastFailure])))
      for (const waiter of this.waiters.splice(0)) waiter.reject(error)
      return
    }
    const giveUpAt = this.downSince === undefined ? Infinity : this.downSince + this.giveUpMs
    const next = Math.min(giveUpAt, ...this.endpoints.filter((e) => e.notBefore > now).map((e) => e.notBefore))
    if (!Number.isFinite(next) || next >= this.timerAt) return
    clearTimeout(this.timer)
    this.timerAt = next
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.timerAt = Infinity
      this.wake()
    }, next - now + 1)
  }

  /** Stops the timer (the resource's finalizer). */
  close(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
  }
}
