/**
 * One HTTP attempt against one endpoint with Node's `fetch`: a JSON POST (or
 * GET) answered with JSON, or a streaming POST read as OpenAI SSE. Every
 * failure becomes an {@link AttemptFailure}: connection refused or reset,
 * no answer within `timeoutMs` (for streams: no bytes for `timeoutMs`), an
 * error status (with the server's message and `Retry-After`), a body that is
 * not JSON, or a stream cut before `[DONE]`.
 *
 * @example
 * ```ts
 * import { requestJson } from "@refine-af/lm-openai"
 * // const body = await requestJson(endpoint.config, "/completions", { model: "m", prompt: "Hi" }, { timeoutMs: 30000, signal })
 * ```
 */
import { OpenAiEventStream, SseError } from "@refine-af/openai"
import { AttemptFailure, bodyExcerpt, safeUrl } from "./attempt-error.ts"
import { retryAfterMs } from "./backoff.ts"
import type { EndpointConfig } from "./endpoint.ts"

/** Per-attempt limits. */
export interface AttemptOptions {
  readonly timeoutMs: number
  /** The caller's signal (interruption). */
  readonly signal: AbortSignal
  /** Called whenever the server sends something (the response head, each stream piece): the client's silence watch. */
  readonly onData?: () => void
}

/** What the common socket error codes mean, for people who do not know them by heart. */
const causeMeaning: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused: nothing listens on that host and port",
  ENOTFOUND: "no such host name",
  EAI_AGAIN: "the host name could not be looked up",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "the server closed the connection",
  ETIMEDOUT: "connecting timed out",
  UND_ERR_CONNECT_TIMEOUT: "connecting timed out"
}

const describeCause = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  const code = cause?.code
  if (code !== undefined) return causeMeaning[code] === undefined ? code : `${code}: ${causeMeaning[code]}`
  return cause?.message ?? (error instanceof Error ? error.message : String(error))
}

const looksLikeHtml = (text: string) => /^\s*<(!doctype|html|head|body)\b/i.test(text)

/** How a body that is not what the API sends reads in a message: HTML called so, then its start. */
const describeBody = (text: string) => `${looksLikeHtml(text) ? "an HTML page, not the API's JSON: " : ""}${bodyExcerpt(text)}`

const send = async (config: EndpointConfig, path: string, body: unknown, options: AttemptOptions, timeout: AbortController): Promise<Response> => {
  const where = `${safeUrl(config.url)}${path}`
  const timer = setTimeout(() => timeout.abort(), options.timeoutMs)
  const signal = AbortSignal.any([options.signal, timeout.signal])
  try {
    const response = await fetch(`${config.url.replace(/\/+$/, "")}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...config.headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal
    })
    options.onData?.()
    if (!response.ok) {
      const text = await response.text().catch(() => "")
      let message = describeBody(text)
      try {
        const parsed = JSON.parse(text) as { error?: { message?: string } | string; message?: string }
        const said = typeof parsed.error === "string" ? parsed.error : parsed.error?.message ?? parsed.message
        if (typeof said === "string") message = bodyExcerpt(said)
      } catch { /* not JSON: keep the text */ }
      const retryable = response.status === 408 || response.status === 429 || response.status >= 500
      throw new AttemptFailure("status", `${where} answered HTTP ${response.status}: ${message}`, retryable, response.status, retryAfterMs(response.headers.get("retry-after")))
    }
    return response
  } catch (error) {
    if (error instanceof AttemptFailure) throw error
    if (options.signal.aborted) throw options.signal.reason
    if (timeout.signal.aborted) throw new AttemptFailure("timeout", `${where} gave no response within ${options.timeoutMs} ms.`, true)
    throw new AttemptFailure("connection", `${where} could not be reached (${describeCause(error)}).`, true)
  } finally {
    clearTimeout(timer)
  }
}

/** POSTs `body` (GET when undefined) and returns the parsed JSON answer. */
export const requestJson = async (config: EndpointConfig, path: string, body: unknown, options: AttemptOptions): Promise<unknown> => {
  const timeout = new AbortController()
  const timer = setTimeout(() => timeout.abort(), options.timeoutMs)
  try {
    const response = await send(config, path, body, options, timeout)
    let text: string
    try {
      text = await response.text()
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason
      if (timeout.signal.aborted) throw new AttemptFailure("timeout", `${safeUrl(config.url)}${path} stopped sending its answer (no complete body within ${options.timeoutMs} ms).`, true)
      throw new AttemptFailure("truncated", `${safeUrl(config.url)}${path}: the connection broke while reading the answer (${describeCause(error)}).`, true)
    }
    try {
      return JSON.parse(text)
    } catch {
      throw new AttemptFailure("malformed", `${safeUrl(config.url)}${path} answered HTTP ${response.status} with a body that is not JSON: ${describeBody(text)}`, true, response.status)
    }
  } finally {
    clearTimeout(timer)
  }
}

/** POSTs a streaming request; yields each JSON chunk until `[DONE]`. `timeoutMs` bounds the wait for each piece. */
export async function* requestStream(config: EndpointConfig, path: string, body: unknown, options: AttemptOptions): AsyncGenerator<unknown> {
  const timeout = new AbortController()
  const response = await send(config, path, body, options, timeout)
  const reader = response.body!.getReader()
  const events = new OpenAiEventStream()
  const where = `${safeUrl(config.url)}${path}`
  try {
    for (;;) {
      const timer = setTimeout(() => timeout.abort(), options.timeoutMs)
      let piece: Awaited<ReturnType<typeof reader.read>>
      try {
        piece = await reader.read()
      } catch (error) {
        if (options.signal.aborted) throw options.signal.reason
        if (timeout.signal.aborted) throw new AttemptFailure("timeout", `${where} sent nothing for ${options.timeoutMs} ms mid-stream.`, true)
        throw new AttemptFailure("truncated", `${where}: the stream broke (${describeCause(error)}).`, true)
      } finally {
        clearTimeout(timer)
      }
      if (piece.done) break
      options.onData?.()
      try {
        yield* events.push(piece.value)
      } catch (error) {
        throw toFailure(error, where)
      }
    }
    try {
      events.end()
    } catch (error) {
      throw toFailure(error, where)
    }
  } finally {
    reader.cancel().catch(() => undefined)
  }
}

const toFailure = (error: unknown, where: string) =>
  error instanceof SseError
    ? new AttemptFailure(error.reason === "Truncated" ? "truncated" : error.reason === "Malformed" ? "malformed" : "status", `${where}: ${error.message}`, true, error.reason === "ServerError" ? 500 : undefined)
    : error
