/**
 * Errors the server answers with: an HTTP status and an OpenAI error body
 * (`{ "error": { message, type, param, code } }`), built from bad requests and
 * from `LanguageModelError`s.
 *
 * @example
 * ```ts
 * import { HttpProblem } from "@refine-af/openai"
 * const problem = HttpProblem.badRequest("n must be at most 8", "n")
 * ```
 */
import type { LanguageModelError } from "@refine-af/core"
import type { ErrorBody } from "../protocol/common.ts"

export class HttpProblem {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {}
  ) {}

  get body(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } }
  }

  static badRequest(message: string, param: string | null = null, code: string | null = null): HttpProblem {
    return new HttpProblem(400, message, "invalid_request_error", param, code)
  }

  static notFound(message: string, code = "not_found"): HttpProblem {
    return new HttpProblem(404, message, "invalid_request_error", null, code)
  }

  static tooManyRequests(message: string, retryAfterSeconds: number): HttpProblem {
    return new HttpProblem(429, message, "rate_limit_error", null, "queue_full", { "retry-after": String(retryAfterSeconds) })
  }

  static unavailable(message: string): HttpProblem {
    return new HttpProblem(503, message, "server_error", null, "unavailable", { "retry-after": "1" })
  }

  /** The status and body for a failure of the served model. */
  static fromModel(error: LanguageModelError): HttpProblem {
    const message = error.fix ? `${error.message} ${error.fix}` : error.message
    switch (error.reason) {
      case "ContextOverflow":
        return new HttpProblem(400, message, "invalid_request_error", "prompt", "context_length_exceeded")
      case "InvalidRequest":
        return new HttpProblem(400, message, "invalid_request_error")
      case "Unavailable":
        return new HttpProblem(503, message, "server_error", null, "unavailable", { "retry-after": "1" })
      default:
        return error.reason === "Internal" ? new HttpProblem(500, message, "server_error") : new HttpProblem(400, message, "invalid_request_error", null, "unsupported")
    }
  }
}
