/**
 * The answer to a failed model call, and what the operator sees of it. A
 * `LanguageModelError` keeps its own status; a 500 of one (`Internal`) is also
 * written to the server's log. Anything else (a defect) is a 500 whose cause —
 * the client gets none of it — goes to the log whole. A call the client
 * abandoned (its request closed) logs nothing.
 *
 * @example
 * ```ts
 * import { problemOfFailure } from "./failure.ts"
 * // const problem = problemOfFailure(exit.cause, { log: console.error, signal, what: "The model failed unexpectedly" })
 * ```
 */
import type { LanguageModelError } from "@refine-af/core"
import { Cause } from "effect"
import { HttpProblem } from "./http-error.ts"

/** Where the server writes what went wrong on its side: a line (or a block) at a time. */
export type ServerLog = (message: string) => void

/** Writes to standard error, each message stamped with the time. */
export const stderrLog: ServerLog = (message) => {
  process.stderr.write(`[${new Date().toISOString()}] ${message}\n`)
}

/** The problem answering `cause`, logged when it is the server's fault. */
export const problemOfFailure = (
  cause: Cause.Cause<LanguageModelError>,
  context: { readonly log: ServerLog; readonly signal: AbortSignal; readonly what: string }
): HttpProblem => {
  const failure = cause.reasons.find((reason) => reason._tag === "Fail")
  if (failure && failure._tag === "Fail") {
    const problem = HttpProblem.fromModel(failure.error)
    if (problem.status === 500 && !context.signal.aborted) context.log(`${context.what} (answered 500): ${problem.message}`)
    return problem
  }
  if (!context.signal.aborted) context.log(`${context.what} (answered 500):\n${Cause.pretty(cause)}`)
  return new HttpProblem(500, `${context.what}.`, "server_error")
}
