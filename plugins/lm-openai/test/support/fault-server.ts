/**
 * A small OpenAI-compatible test server (loopback only) whose behaviour per
 * request is scripted: answer normally ("re: <prompt>", words as tokens, vLLM-
 * style echo logprobs with text offsets), or fail in a chosen way — an error
 * status with Retry-After, a hang, a body that is not JSON, any status with a
 * raw body, an SSE stream cut short, a dropped connection. It records every
 * request it received.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { afterEach } from "vitest"
import { openOpenAiModel, type EndpointEvent, type OpenedOpenAiModel } from "../../src/index.ts"

export type Fault =
  | { readonly kind: "ok"; readonly delayMs?: number }
  | { readonly kind: "status"; readonly status: number; readonly retryAfter?: string; readonly message?: string }
  /** Any status with a body sent as is (a plain-text error, a proxy's HTML page). */
  | { readonly kind: "body"; readonly status: number; readonly body: string; readonly contentType?: string }
  | { readonly kind: "hang" }
  | { readonly kind: "malformed" }
  | { readonly kind: "truncate"; readonly afterChunks: number }
  | { readonly kind: "destroy" }

export interface Received {
  readonly at: number
  readonly path: string
  readonly body: Record<string, any>
  readonly authorization: string | undefined
}

const words = (text: string) => text.split(/(?<=\s)/).filter((w) => w.length > 0)
export const wordLogprob = (word: string) => -(1 + (word.length % 7) / 4)

const promptOf = (body: Record<string, any>): string =>
  typeof body.prompt === "string" ? body.prompt : (body.messages as Array<{ content: string }>).map((m) => m.content).join("|")

const answer = (path: string, body: Record<string, any>) => {
  const text = `re: ${promptOf(body)}`
  const tokens = words(text)
  const chat = path.endsWith("/chat/completions")
  if (chat) {
    return { id: "c", object: "chat.completion", created: 0, model: body.model, choices: [{ index: 0, message: { role: "assistant", content: text }, logprobs: body.logprobs ? { content: tokens.map((t) => ({ token: t, logprob: wordLogprob(t), bytes: null, top_logprobs: [] })) } : null, finish_reason: "stop", stop_reason: null }], usage: { prompt_tokens: 3, completion_tokens: tokens.length, total_tokens: 3 + tokens.length } }
  }
  if (body.echo) {
    // vLLM's shape: every prompt token with its offset, the first without a logprob, then the generated tokens.
    const promptTokens = words(body.prompt as string)
    const all = [...promptTokens, "X"]
    let offset = 0
    const offsets = all.map((t) => ((offset += t.length), offset - t.length))
    return { choices: [{ index: 0, text: `${body.prompt}X`, logprobs: { tokens: all, token_logprobs: all.map((t, i) => (i === 0 ? null : wordLogprob(t))), top_logprobs: null, text_offset: offsets }, finish_reason: "length" }] }
  }
  return { id: "x", object: "text_completion", created: 0, model: body.model, choices: [{ index: 0, text, logprobs: body.logprobs != null ? { tokens: tokens.map((_, i) => `token_id:${i}`), token_logprobs: tokens.map(wordLogprob), top_logprobs: null } : null, finish_reason: tokens.length >= (body.max_tokens ?? 16) ? "length" : "stop", stop_reason: null }], usage: { prompt_tokens: 3, completion_tokens: tokens.length, total_tokens: 3 + tokens.length } }
}

const streamChunks = (path: string, body: Record<string, any>) => {
  const tokens = words(`re: ${promptOf(body)}`)
  const chunks: Array<Record<string, unknown>> = tokens.map((t) =>
    path.endsWith("/chat/completions")
      ? { choices: [{ index: 0, delta: { content: t }, logprobs: { content: [{ token: t, logprob: wordLogprob(t) }] }, finish_reason: null }] }
      : { choices: [{ index: 0, text: t, logprobs: { tokens: [t], token_logprobs: [wordLogprob(t)] }, finish_reason: null }] }
  )
  // OpenAI's shape: the usage in a last chunk with no choices, when the request asked for it.
  if (body.stream_options?.include_usage === true) chunks.push({ choices: [], usage: { prompt_tokens: 3, completion_tokens: tokens.length, total_tokens: 3 + tokens.length } })
  return chunks
}

export interface FaultServer {
  readonly url: string
  readonly port: number
  readonly received: Array<Received>
  /** Requests answered successfully, by prompt. */
  readonly served: Array<string>
  /** Decides each request's fate (default: ok). */
  script: (request: Received, index: number) => Fault
  /** Stops listening and drops every connection at once (a crash). */
  kill: () => Promise<void>
  /** Peak concurrent requests seen. */
  readonly peak: () => number
}

/** Starts a fault server on 127.0.0.1 (`port` 0: any free port). */
export const startFaultServer = async (options: { readonly port?: number; readonly key?: string; readonly script?: FaultServer["script"] } = {}): Promise<FaultServer> => {
  const received: Array<Received> = []
  const served: Array<string> = []
  const sockets = new Set<Socket>()
  let running = 0
  let peak = 0
  const handle = async (request: IncomingMessage, response: ServerResponse, state: FaultServer) => {
    const path = (request.url ?? "/").split("?")[0]!
    let raw = ""
    for await (const chunk of request) raw += chunk
    if (path.endsWith("/models")) return response.end(JSON.stringify({ object: "list", data: [{ id: "tiny" }] }))
    const body = raw ? (JSON.parse(raw) as Record<string, any>) : {}
    const seen: Received = { at: Date.now(), path, body, authorization: request.headers.authorization }
    received.push(seen)
    if (options.key !== undefined && request.headers.authorization !== `Bearer ${options.key}`) {
      response.writeHead(401, { "content-type": "application/json" })
      return response.end(JSON.stringify({ error: { message: "invalid api key", type: "authentication_error" } }))
    }
    const fault = state.script(seen, received.length - 1)
    if (fault.kind === "hang") return
    if (fault.kind === "destroy") return request.socket.destroy()
    if (fault.kind === "status") {
      response.writeHead(fault.status, { "content-type": "application/json", ...(fault.retryAfter ? { "retry-after": fault.retryAfter } : {}) })
      return response.end(JSON.stringify({ error: { message: fault.message ?? `scripted ${fault.status}`, type: "server_error" } }))
    }
    if (fault.kind === "body") {
      response.writeHead(fault.status, { "content-type": fault.contentType ?? "text/plain" })
      return response.end(fault.body)
    }
    if (fault.kind === "malformed") {
      response.writeHead(200, { "content-type": "application/json" })
      return response.end('{"choices": [ {"text": "cut')
    }
    if (fault.kind === "ok" && fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs))
    if (body.stream) {
      response.writeHead(200, { "content-type": "text/event-stream" })
      const chunks = streamChunks(path, body)
      const limit = fault.kind === "truncate" ? fault.afterChunks : chunks.length
      for (const chunk of chunks.slice(0, limit)) await new Promise((resolve) => response.write(`data: ${JSON.stringify(chunk)}\n\n`, resolve))
      if (fault.kind === "truncate") {
        // Let the written chunks reach the client, then cut the connection mid-stream.
        await new Promise((resolve) => setTimeout(resolve, 30))
        return request.socket.destroy()
      }
      served.push(promptOf(body))
      return response.end("data: [DONE]\n\n")
    }
    served.push(promptOf(body))
    response.writeHead(200, { "content-type": "application/json" })
    response.end(JSON.stringify(answer(path, body)))
  }
  const state = {} as FaultServer
  const server = createServer((request, response) => {
    running++
    peak = Math.max(peak, running)
    response.on("close", () => running--)
    handle(request, response, state).catch(() => request.socket.destroy())
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    received,
    served,
    script: options.script ?? (() => ({ kind: "ok" }) as Fault),
    peak: () => peak,
    kill: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
  })
}

/** A loopback port where nothing listens (bound, then closed at once). */
export const freePort = async (): Promise<number> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * A test file's fault servers and client: `start` starts a server, `stop`
 * kills one mid-test, `open` opens the client over some URLs (closing the
 * previous one); after each test the client is closed and every server killed.
 */
export const faultHarness = (defaults: Record<string, unknown> = {}) => {
  const servers: Array<FaultServer> = []
  let opened: OpenedOpenAiModel | undefined
  afterEach(async () => {
    opened?.client.close()
    opened = undefined
    await Promise.all(servers.splice(0).map((s) => s.kill()))
  })
  return {
    start: async (options: Parameters<typeof startFaultServer>[0] = {}) => {
      const server = await startFaultServer(options)
      servers.push(server)
      return server
    },
    open: (urls: ReadonlyArray<string>, extra: Record<string, unknown> = {}, events: Array<EndpointEvent> = []) => {
      opened?.client.close()
      opened = openOpenAiModel({ model: "tiny", endpoints: urls.map((url) => ({ url })), ...defaults, ...extra } as never, {}, (event) => events.push(event))
      return opened.service
    },
    /** Kills `server` now (a server going away mid-test); it is not killed again after the test. */
    stop: async (server: FaultServer) => {
      servers.splice(servers.indexOf(server), 1)
      await server.kill()
    },
    /** The client `open` made last. */
    client: () => opened?.client
  }
}
