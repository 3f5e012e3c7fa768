/**
 * Admission control of the server: at most `concurrency` requests run at once
 * (they reach the model together, so a batching model decodes them as one
 * batch); up to `queueSize` more wait in arrival order; beyond that a request is
 * refused at once (the caller answers 429 with `Retry-After`). While draining,
 * nothing new is admitted and `idle()` resolves when the last request ends.
 *
 * @example
 * ```ts
 * import { Admission } from "@refine-af/openai"
 * const gate = new Admission({ concurrency: 8, queueSize: 64 })
 * // const release = await gate.enter(); try { ... } finally { release() }
 * ```
 */

export class Admission {
  private running = 0
  private readonly waiting: Array<() => void> = []
  private drainWaiters: Array<() => void> = []
  draining = false

  constructor(private readonly limits: { readonly concurrency: number; readonly queueSize: number }) {}

  /** Requests running plus waiting. */
  get outstanding(): number {
    return this.running + this.waiting.length
  }

  /** Waits for a slot; `undefined` when the queue is full or the server is draining. */
  enter(): Promise<() => void> | undefined {
    if (this.draining) return undefined
    if (this.running < this.limits.concurrency) {
      this.running++
      return Promise.resolve(this.releaser())
    }
    if (this.waiting.length >= this.limits.queueSize) return undefined
    return new Promise((resolve) => this.waiting.push(() => resolve(this.releaser())))
  }

  /** Resolves once no request runs or waits. */
  idle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  private releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
      if (this.outstanding === 0) {
        const waiters = this.drainWaiters
        this.drainWaiters = []
        for (const resolve of waiters) resolve()
      }
    }
  }
}
