/**
 * Worker-thread side of `WorkerEngine`: an {@link OrtHost} behind a message
 * loop. Requests are `{ call, method, args }`, replies `{ call, result }` or
 * `{ call, error }`. Downloads transfer a copy of the tensor's buffer.
 */
import type { HostTensor } from "@refine-af/tensor"
import { parentPort, workerData } from "node:worker_threads"
import type { Engine } from "./engine.ts"
import { makeOrtHost } from "./ort-host.ts"
import type { SessionSettings } from "./providers.ts"

/** A request from the main thread. */
export interface WorkerRequest {
  readonly call: number
  readonly method: keyof Engine
  readonly args: ReadonlyArray<unknown>
}

const port = parentPort!
const host = makeOrtHost((workerData as { settings: SessionSettings }).settings)

port.on("message", async (request: WorkerRequest) => {
  try {
    const method = host[request.method] as (...args: ReadonlyArray<unknown>) => Promise<unknown>
    const result = await method(...request.args)
    if (request.method === "download") {
      const tensor = result as HostTensor
      const data = tensor.data.slice()
      port.postMessage({ call: request.call, result: { ...tensor, data } }, [data.buffer])
    } else {
      port.postMessage({ call: request.call, result })
    }
  } catch (error) {
    port.postMessage({ call: request.call, error: error instanceof Error ? error.message : String(error) })
  }
})
