/** A port the server cannot listen on: one typed error naming the port and the fix, found by a probe before a model loads. */
import { scriptedLanguageModel } from "@refine-af/testing"
import { createServer, type AddressInfo, type Server } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { ListenFailed, listenFailureOf, probeListen, startOpenAiServer } from "../src/index.ts"

let holder: Server | undefined
afterEach(async () => {
  await new Promise((resolve) => (holder === undefined ? resolve(undefined) : holder.close(resolve)))
  holder = undefined
})

/** A port some other server holds. */
const busyPort = async (): Promise<number> => {
  holder = createServer()
  await new Promise<void>((resolve) => holder!.listen(0, "127.0.0.1", resolve))
  return (holder.address() as AddressInfo).port
}

describe("listening", () => {
  it("startOpenAiServer on a busy port rejects with ListenFailed naming the port and the fix", async () => {
    const port = await busyPort()
    const failure = await startOpenAiServer({ model: scriptedLanguageModel(() => ({ text: "hi" })), modelName: "tiny", port }).then(
      () => undefined,
      (error: unknown) => error
    )
    expect(failure).toBeInstanceOf(ListenFailed)
    expect(failure).toMatchObject({
      code: "EADDRINUSE",
      port,
      message: `port ${port} is already in use on 127.0.0.1 (another server is listening there)`,
      fix: "pass --port with a free port (or --port 0 to pick one), or stop the other process"
    })
  })

  it("probeListen finds a busy port without keeping one it could take", async () => {
    const port = await busyPort()
    await expect(probeListen("127.0.0.1", port)).rejects.toMatchObject({ _tag: "ListenFailed", code: "EADDRINUSE", port })
    await new Promise((resolve) => holder!.close(resolve))
    holder = undefined
    await probeListen("127.0.0.1", port)
    // The probe let the port go: a server can take it now.
    const server = await startOpenAiServer({ model: scriptedLanguageModel(() => ({ text: "hi" })), modelName: "tiny", port })
    expect(server.port).toBe(port)
    await server.close({ graceMs: 100 })
    await probeListen("127.0.0.1", 0)
  })

  it("says which flag to change for other listen errors, and passes unknown ones through", () => {
    expect(listenFailureOf({ code: "EACCES" }, "127.0.0.1", 80)).toMatchObject({ message: "not allowed to listen on port 80 of 127.0.0.1 (ports below 1024 need administrator rights)", fix: "pass --port 1024 or above (or --port 0 to pick a free one)" })
    expect(listenFailureOf({ code: "EADDRNOTAVAIL" }, "10.9.9.9", 8000)).toMatchObject({ fix: "pass --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every network interface)" })
    const other = new Error("boom")
    expect(listenFailureOf(other, "127.0.0.1", 8000)).toBe(other)
  })
})
