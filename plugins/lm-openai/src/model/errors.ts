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
import { AllEndpointsDown, NoEndpointReached } from "../transport/pool.ts"

/** A request the server cannot serve (e.g. prompt scoring without `echo`). */
export const unsupported = (message: string, fix: string): LanguageModelError => new LanguageModelError({ reason: "Unsupported", message, fix })

/** The fix for a server that keeps failing, by what its failures were. */
const fixFor = (failure: AttemptFailure | undefined, orWaitLonger: string): string => {
  if (failure?.answered) {
    return `The server is running but answers with errors: read its log for the cause (e.g. CUDA out of memory: lower max_concurrency, or the server's batch size / --gpu-memory-utilization on vLLM). An HTML page means the URL reaches a proxy or web page, not the API: check that each url in endpoints: ends in /v1. ${orWaitLonger}`
  }
  if (failure?.kind === "timeout") {
    return `The server accepts connections but does not answer within timeout_ms: check its log (overloaded, stuck, or still loading the model), or raise timeout_ms if its answers take longer. ${orWaitLonger}`
  }
  if (failure?.kind === "connection") {
    return `Start the server, or check the host and port of each url in endpoints: (e.g. http://127.0.0.1:8000/v1). ${orWaitLonger}`
  }
  return `Check the servers in endpoints: (their logs say why they fail). ${orWaitLonger}`
}

/** Maps a failure of the client to the core error, with secrets removed. */
export const toModelError = (error: unknown, redact: (text: string) => string): LanguageModelError => {
  if (error instanceof LanguageModelError) return error
  if (error instanceof NoEndpointReached) {
    return new LanguageModelError({
      reason: "Unavailable",
      message: redact(`No OpenAI-compatible server could be reached: ${error.message}.`),
      fix: "Start the server (e.g. vllm serve <model> --port <port>), or check the host and port of each url in endpoints: (e.g. http://127.0.0.1:8000/v1). If a server is still starting (loading a model can take minutes), set breaker.give_up_ms (e.g. 600000) to wait that long for it instead of failing at once."
    })
  }
  if (error instanceof RetriesExhausted) {
    const lead = error.last.answered
      ? "The OpenAI-compatible server answered with an error (the server's own answer, not a network failure)"
      : error.last.kind === "connection" ? "No OpenAI-compatible endpoint could be reached" : "No OpenAI-compatible endpoint answered"
    return new LanguageModelError({
      reason: "Unavailable",
      message: redact(`${lead}: ${error.message}`),
      fix: fixFor(error.last, "Or raise retries.max_attempts / timeout_ms.")
    })
  }
  if (error instanceof AllEndpointsDown) {
    return new LanguageModelError({
      reason: "Unavailable",
      message: redact(`${error.answered ? "No OpenAI-compatible endpoint can serve the requests" : "No OpenAI-compatible endpoint is up"}: ${error.message}`),
      fix: fixFor(error.answered ? error.failures[0] : error.lastFailure, "Or raise breaker.give_up_ms to keep trying longer (e.g. through a restart).")
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
    if (status === 404) {
      return new LanguageModelError({ reason: "InvalidRequest", message: redact(error.message), fix: "Check that each url in endpoints: is the API's base URL, ending in /v1 (e.g. http://127.0.0.1:8000/v1), and model: against the server's GET /v1/models." })
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      return new LanguageModelError({ reason: "InvalidRequest", message: redact(error.message), fix: "Check model: against the server's GET /v1/models and the sampling parameters the server supports." })
    }
    return new LanguageModelError({ reason: "Unavailable", message: redact(error.message), fix: "Check the server's health; the request was not retried (or retries were exhausted)." })
  }
  return new LanguageModelError({ reason: "Internal", message: redact(`Unexpected client failure: ${error instanceof Error ? error.message : String(error)}`) })
}
