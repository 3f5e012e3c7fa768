/**
 * An {@link Engine} whose sessions run in a worker thread, so a long
 * `session.run` (onnxruntime-node runs synchronously on the calling thread)
 * does not freeze the main event loop: timers, progress output and HTTP
 * servers keep going.
 *
 * Model bytes and host feeds are copied to the worker (structured clone);
 * device tensors stay in the worker and are addressed by id.
 */
import { Worker } from "node:worker_threads"
import type { Engine } from "./engine.ts"
import type { SessionSettings } from "./providers.ts"

interface Pending {
  readonly resolve: (value: unknown) => void
  readonly reject: (error: Error) => void
}

/** Starts a worker thread and returns the engine that talks to it. `close()` stops the worker. */
export const makeWorkerEngine = (settings: SessionSettings): Engine => {
  // Built (published dist/): this file is .js and so is the entry next to it; from the sources, .ts.
  const entry = new URL(import.meta.url.endsWith(".js") ? "./worker-entry.js" : "./worker-entry.ts", import.meta.url)
  const worker = new Worker(new URL("./worker-boot.mjs", import.meta.url), {
    workerData: { entry: entry.href, settings }
  })
  const pending = new Map<number, Pending>()
  let nextCall = 1
  let crashed: Error | undefined

  worker.on("message", (reply: { call: number; result?: unknown; error?: string }) => {
    const waiter = pending.get(reply.call)
    pending.delete(reply.call)
    if (waiter === undefined) return
    if (reply.error !== undefined) waiter.reject(new Error(reply.error))
    else waiter.resolve(reply.result)
  })
  const failAll = (error: Error) => {
    crashed = error
    for (const waiter of pending.values()) waiter.reject(error)
    pending.clear()
  }
  worker.on("error", failAll)
  worker.on("exit", (code) => failAll(new Error(`onnxruntime worker thread exited (code ${code})`)))

  const call = <A>(method: keyof Engine, ...args: ReadonlyArray<unknown>): Promise<A> => {
    if (crashed !== undefined) return Promise.reject(crashed)
    const id = nextCall++
    return new Promise<A>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      worker.postMessage({ call: id, method, args })
    })
  }

  return {
    load: (key, bundle, deviceOutputs, memoryPattern) => call("load", key, bundle, deviceOutputs, memoryPattern),
    run: (key, feeds, outputs) => call("run", key, feeds, outputs),
    upload: (tensor) => call("upload", tensor),
    download: (ref) => call("download", ref),
    release: (ref) => call("release", ref),
    unload: (key) => call("unload", key),
    close: async () => {
      await call("close").catch(() => undefined)
      worker.removeAllListeners("exit")
      await worker.terminate()
    }
  }
}
