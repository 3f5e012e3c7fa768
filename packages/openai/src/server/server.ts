/**
 * An OpenAI-compatible HTTP server over any `LanguageModelService`:
 * `GET /health`, `GET /v1/models`, `POST /v1/completions`,
 * `POST /v1/chat/completions` (JSON or SSE). Requests run concurrently up to
 * `concurrency` — a batching model decodes them in one batch — and queue up to
 * `queueSize`; a full queue answers 429 with `Retry-After`. Bodies over
 * `maxBodyBytes` answer 413. Every refusal is an OpenAI error body and the
 * server stays up. A port it cannot listen on rejects with `ListenFailed`
 * (port taken, no rights, not this machine's address), naming the fix.
 * `close()` drains: it stops accepting, lets in-flight requests finish (up to
 * `graceMs`), then closes connections.
 *
 * @example
 * ```ts
 * import { startOpenAiServer } from "@refine-af/openai"
 * import { scriptedLanguageModel } from "@refine-af/testing"
 * const server = await startOpenAiServer({ model: scriptedLanguageModel(() => ({ text: "hi" })), modelName: "demo", port: 0 })
 * await server.close()
 * ```
 */
import type { LanguageModelService } from "@refine-af/core"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Admission } from "./admission.ts"
import { makeRoutes } from "./handlers.ts"
import { HttpProblem } from "./http-error.ts"
import { stderrLog, type ServerLog } from "./failure.ts"
import { readBody, sendJson, sendProblem } from "./http-io.ts"
import { listenFailureOf } from "./listen.ts"

export { ListenFailed, listenFailureOf, probeListen } from "./listen.ts"

/** Options of {@link startOpenAiServer}. */
export interface OpenAiServerOptions {
  readonly model: LanguageModelService
  /** The model name clients use. */
  readonly modelName: string
  /** Default 127.0.0.1 (loopback only). */
  readonly host?: string
  /** Default 8000; 0 picks a free port. */
  readonly port?: number
  /** Requests running at once (default 64). */
  readonly concurrency?: number
  /** Requests waiting beyond those (default 256). */
  readonly queueSize?: number
  /** Largest request body in bytes (default 1 MiB). */
  readonly maxBodyBytes?: number
  /** Most choices per request (default 16). */
  readonly maxChoices?: number
  /** Most prompts in one completions request (default 64). */
  readonly maxPrompts?: number
  /** Where failures on the server's side (answered 500) are written, causes included (default: standard error, time-stamped). */
  readonly log?: ServerLog
}

/** A listening server. */
export interface RunningOpenAiServer {
  /** `http://host:port/v1`, the base URL clients take. */
  readonly baseUrl: string
  readonly port: number
  /** Requests running or queued. */
  readonly outstanding: () => number
  /** Graceful shutdown: refuse new requests, finish in-flight ones (at most `graceMs`, default 30 s), close. */
  readonly close: (options?: { readonly graceMs?: number }) => Promise<void>
}

const route = (request: IncomingMessage) => `${request.method ?? "GET"} ${(request.url ?? "/").split("?")[0]!.replace(/\/+$/, "")}`

/** Starts listening; resolves once the port is bound, rejects with `ListenFailed` when it cannot be. */
export const startOpenAiServer = (options: OpenAiServerOptions): Promise<RunningOpenAiServer> => {
  const host = options.host ?? "127.0.0.1"
  const maxBodyBytes = options.maxBodyBytes ?? 1 << 20
  const admission = new Admission({ concurrency: options.concurrency ?? 64, queueSize: options.queueSize ?? 256 })
  const log = options.log ?? stderrLog
  const routes = makeRoutes({ model: options.model, modelName: options.modelName, maxChoices: options.maxChoices ?? 16, maxPrompts: options.maxPrompts ?? 64, log })

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = route(request)
    if (path === "GET /health" || path === "GET /v1/health") {
      return admission.draining ? sendJson(response, 503, { status: "draining" }) : sendJson(response, 200, { status: "ok", outstanding: admission.outstanding })
    }
    if (path === "GET /v1/models") return sendJson(response, 200, routes.models())
    if (path.startsWith("GET /v1/models/")) {
      const card = routes.models().data.find((m) => `GET /v1/models/${m.id}` === decodeURIComponent(path))
      return card ? sendJson(response, 200, card) : sendProblem(response, HttpProblem.notFound(`No model ${path.slice("GET /v1/models/".length)} on this server.`, "model_not_found"))
    }
    const handler = path === "POST /v1/completions" ? routes.completions : path === "POST /v1/chat/completions" ? routes.chat : undefined
    if (handler === undefined) {
      const known = ["/v1/completions", "/v1/chat/completions", "/v1/models", "/health"].some((p) => path.endsWith(` ${p}`))
      return sendProblem(response, known
        ? new HttpProblem(405, `${request.method} is not allowed on ${request.url}.`, "invalid_request_error", null, "method_not_allowed")
        : HttpProblem.notFound(`Unknown route ${path}; this server has /v1/models, /v1/completions, /v1/chat/completions and /health.`))
    }
    const text = await readBody(request, maxBodyBytes)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw HttpProblem.badRequest("The request body is not valid JSON.", null, "invalid_json")
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw HttpProblem.badRequest("The request body must be a JSON object.", null, "invalid_json")
    const entered = admission.enter()
    if (entered === undefined) {
      throw admission.draining ? HttpProblem.unavailable("The server is shutting down.") : HttpProblem.tooManyRequests(`The server's queue is full (${admission.outstanding} requests); retry later.`, 1)
    }
    const release = await entered
    const abort = new AbortController()
    response.on("close", () => {
      if (!response.writableFinished) abort.abort()
    })
    try {
      await handler(body, response, abort.signal)
    } finally {
      // The request counts until its last byte is handed to the socket, so a drain never cuts an answer.
      if (response.writableFinished || response.destroyed) release()
      else {
        response.once("finish", release)
        response.once("close", release)
      }
    }
  }

  const server = createServer((request, response) => {
    if (admission.draining) response.setHeader("connection", "close")
    handle(request, response).catch((error: unknown) => {
      if (error instanceof HttpProblem) return sendProblem(response, error, error.status === 413 ? { connection: "close" } : {})
      log(`Internal server error on ${route(request)} (answered 500):\n${error instanceof Error ? error.stack ?? error.message : String(error)}`)
      sendProblem(response, new HttpProblem(500, `Internal server error: ${error instanceof Error ? error.message : String(error)}`, "server_error"))
    })
  })
  server.requestTimeout = 0
  server.keepAliveTimeout = 5000

  const port = options.port ?? 8000
  return new Promise((resolve, reject) => {
    const refused = (error: unknown) => reject(listenFailureOf(error, host, port))
    server.once("error", refused)
    server.listen(port, host, () => {
      server.off("error", refused)
      const bound = (server.address() as AddressInfo).port
      let closing: Promise<void> | undefined
      resolve({
        baseUrl: `http://${host}:${bound}/v1`,
        port: bound,
        outstanding: () => admission.outstanding,
        close: (closeOptions = {}) =>
          (closing ??= (async () => {
            admission.draining = true
            const stopped = new Promise<void>((done) => server.close(() => done()))
            server.closeIdleConnections()
            let timer: NodeJS.Timeout | undefined
            const grace = new Promise<void>((done) => (timer = setTimeout(done, closeOptions.graceMs ?? 30_000)))
            await Promise.race([admission.idle(), grace])
            // Answered keep-alive connections close now; anything still open after the grace period is cut.
            server.closeIdleConnections()
            await Promise.race([stopped, grace])
            clearTimeout(timer)
            server.closeAllConnections()
            await stopped
          })())
      })
    })
  })
}
