/**
 * Why a server cannot listen on `host:port` (the port is taken, needs privileges, or the
 * address is not this machine's), as one typed error naming the port and the fix, and a quick
 * probe that finds out before anything slow (loading a model) happens.
 *
 * @example
 * ```ts
 * import { probeListen } from "@refine-af/openai"
 * await probeListen("127.0.0.1", 8000) // rejects with ListenFailed when the port is taken
 * ```
 */
import { Schema } from "effect"
import { createServer } from "node:net"

/** The server could not listen on `host:port`; `fix` says which flag to change. */
export class ListenFailed extends Schema.TaggedError<ListenFailed>()("ListenFailed", {
  code: Schema.String,
  host: Schema.String,
  port: Schema.Number,
  message: Schema.String,
  fix: Schema.String
}) {}

const describe = (code: string, host: string, port: number): { readonly message: string; readonly fix: string } | undefined => {
  switch (code) {
    case "EADDRINUSE":
      return {
        message: `port ${port} is already in use on ${host} (another server is listening there)`,
        fix: "pass --port with a free port (or --port 0 to pick one), or stop the other process"
      }
    case "EACCES":
    case "EPERM":
      return {
        message: `not allowed to listen on port ${port} of ${host}${port < 1024 ? " (ports below 1024 need administrator rights)" : ""}`,
        fix: "pass --port 1024 or above (or --port 0 to pick a free one)"
      }
    case "EADDRNOTAVAIL":
      return {
        message: `${host} is not an address of this machine, so nothing can listen on it`,
        fix: "pass --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every network interface)"
      }
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return {
        message: `the host name ${host} does not resolve to an address`,
        fix: "pass --host with an address of this machine, e.g. 127.0.0.1 or 0.0.0.0"
      }
    default:
      return undefined
  }
}

/** `error` (from `listen`) as a `ListenFailed` when it is one of the known causes, else `error` unchanged. */
export const listenFailureOf = (error: unknown, host: string, port: number): unknown => {
  const code = typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string" ? (error as { code: string }).code : undefined
  const described = code === undefined ? undefined : describe(code, host, port)
  return described === undefined ? error : new ListenFailed({ code: code!, host, port, ...described })
}

/**
 * Binds `host:port` and lets it go at once: rejects with `ListenFailed` when a server could
 * not listen there. Port 0 always succeeds (the server picks a free port when it starts).
 */
export const probeListen = (host: string, port: number): Promise<void> =>
  port === 0
    ? Promise.resolve()
    : new Promise((resolve, reject) => {
      const probe = createServer()
      probe.once("error", (error) => reject(listenFailureOf(error, host, port)))
      probe.listen(port, host, () => probe.close(() => resolve()))
    })
