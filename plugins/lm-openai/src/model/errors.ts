/**
 * Transport failures → `LanguageModelError`s with a fix. API keys never
 * appear: messages are built from safe URLs, statuses and server messages,
 * and every message is passed through `redact` with the configured keys.
 *
 * @example
 * ```ts
 * import { toModelError } from "@refine-af/lm-openai"
 * // Effect.tryPromise({ try: ..., catch: (e) => toModelError(e, redact) })
 * ```
 */
import { LanguageModelError } from "@refine-af/core"
import { AttemptFailure } from "../transport/attempt-error.ts"
import { RetriesExhausted } from "../transport/client.ts"
import { AllEndpointsDown } from "../transport/pool.ts"

/** A request the server cannot serve (e.g. prompt scoring without `echo`). */
export const unsupported = (message: string, fix: string): LanguageModelError => new LanguageModelError({ reason: "Unsupported", message, fix })

/** Maps a failure of the client to the core error, with secrets removed. */
export const toModelError = (error: unknown, redact: (text: string) => string): LanguageModelError => {
  if (error instanceof LanguageModelError) return error
  if (error instanceof RetriesExhausted) {
    return new LanguageModelError({
      reason: "Unavailable",
      message: redact(`No OpenAI-compatible endpoint answered: ${error.message}`),
      fix: "Check that the servers in endpoints: are up and reachable, or raise retries.max_attempts / timeout_ms."
    })
  }
  if (error instanceof AllEndpointsDown) {
    return new LanguageModelError({
      reason: "Unavailable",
      message: redact(`No OpenAI-compatible endpoint is up: ${error.message}`),
      fix: "Check the servers in endpoints: (their logs say why they fail), or raise breaker.give_up_ms to wait longer for a restart."
    })
  }
  if (error instanceof AttemptFailure) {
    const status = error.status ?? 0
    if (status === 401 || status === 403) {
      return new LanguageModelError({ reason: "Unavailable", message: redact(error.message), fix: "Check the API key: set the environment variable named by api_key_env to the server's key." })
    }
    if (status === 400 && /context|too long|maximum.*length|token/i.test(error.message)) {
      return new LanguageModelError({ reason: "ContextOverflow", message: redact(error.message), fix: "Shorten the prompt or lower max_tokens; context_length in the recipe should match the server's." })
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      return new LanguageModelError({ reason: "InvalidRequest", message: redact(error.message), fix: "Check model: against the server's GET /v1/models and the sampling parameters the server supports." })
    }
    return new LanguageModelError({ reason: "Unavailable", message: redact(error.message), fix: "Check the server's health; the request was not retried (or retries were exhausted)." })
  }
  return new LanguageModelError({ reason: "Internal", message: redact(`Unexpected client failure: ${error instanceof Error ? error.message : String(error)}`) })
}
