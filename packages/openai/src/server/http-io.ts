/**
 * Node HTTP plumbing of the server: reading a JSON body under a size limit
 * and writing JSON / error responses.
 *
 * @example
 * ```ts
 * import { readBody } from "@refine-af/openai"
 * // const text = await readBody(request, 1 << 20) // HttpProblem 413 beyond the limit
 * ```
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { HttpProblem } from "./http-error.ts"

const tooLarge = (limit: number) =>
  new HttpProblem(413, `The request body exceeds the server's limit of ${limit} bytes.`, "invalid_request_error", null, "request_too_large")

/** The body as text; rejects with an {@link HttpProblem} (413) past `limit` bytes. */
export const readBody = (request: IncomingMessage, limit: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"] ?? "0")
    if (declared > limit) {
      request.resume()
      return reject(tooLarge(limit))
    }
    const chunks: Array<Buffer> = []
    let size = 0
    let failed = false
    request.on("data", (chunk: Buffer) => {
      if (failed) return
      size += chunk.length
      if (size > limit) {
        failed = true
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    })
    request.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks).toString("utf8"))
    })
    // The client closed the connection mid-body: nobody is left to answer, and it is no failure of the server's.
    request.on("error", () => {
      if (!failed) reject(HttpProblem.badRequest("The client closed the connection before sending the whole request body.", null, "client_closed"))
    })
  })

/** Writes `body` as JSON with `status`. */
export const sendJson = (response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void => {
  if (response.headersSent) {
    response.end()
    return
  }
  const text = JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers })
  response.end(text)
}

/** Writes an OpenAI error response. */
export const sendProblem = (response: ServerResponse, problem: HttpProblem, extraHeaders: Readonly<Record<string, string>> = {}): void =>
  sendJson(response, problem.status, problem.body, { ...problem.headers, ...extraHeaders })
