/**
 * Least-outstanding-requests balancing over {@link Endpoint}s: a request goes
 * to the available endpoint with the fewest requests in flight (ties: the one
 * used least recently), preferring one other than where its last attempt
 * failed. When every endpoint is full, paused or open, `acquire` waits until a
 * slot frees or a pause / cooldown ends.
 *
 * @example
 * ```ts
 * import { EndpointPool } from "@refine-af/lm-openai"
 * // const endpoint = await pool.acquire(undefined, signal); ... endpoint.succeed(); pool.wake()
 * ```
 */
import type { Endpoint } from "./endpoint.ts"

interface Waiter {
  readonly avoid: Endpoint | undefined
  readonly resolve: (endpoint: Endpoint) => void
}

export class EndpointPool {
  private readonly waiters: Array<Waiter> = []
  private readonly lastUsed = new Map<Endpoint, number>()
  private ticks = 0
  private timer: NodeJS.Timeout | undefined
  private timerAt = Infinity

  constructor(readonly endpoints: ReadonlyArray<Endpoint>) {}

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
      const waiter: Waiter = { avoid, resolve }
      this.waiters.push(waiter)
      signal.addEventListener("abort", () => {
        const index = this.waiters.indexOf(waiter)
        if (index >= 0) this.waiters.splice(index, 1)
        reject(signal.reason)
      }, { once: true })
      this.wake()
    })
  }

  /** Hands free slots to waiters in arrival order; arms a timer for the next pause or cooldown to end. */
  wake(): void {
    const now = Date.now()
    while (this.waiters.length > 0) {
      const endpoint = this.pick(this.waiters[0]!.avoid, now)
      if (!endpoint) break
      this.waiters.shift()!.resolve(this.take(endpoint))
    }
    if (this.waiters.length === 0) return
    const next = Math.min(...this.endpoints.filter((e) => e.notBefore > now).map((e) => e.notBefore))
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
