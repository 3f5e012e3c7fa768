/**
 * Options → a ready {@link FanOutClient} and `LanguageModelService`, outside
 * any run (tests, benchmarks, other tools). Keys are read from `env` by the
 * names the options give and live only in request headers; `redact` scrubs
 * them from every message.
 *
 * @example
 * ```ts
 * import { openOpenAiModel } from "@refine-af/lm-openai"
 * const { service, client } = openOpenAiModel({ model: "tiny", endpoints: [{ url: "http://127.0.0.1:8000/v1" }] }, process.env)
 * client.close()
 * ```
 */
import type { LanguageModelService } from "@refine-af/core"
import { makeOpenAiLanguageModel } from "./model/service.ts"
import { openAiLmDefaults as defaults, type OpenAiLmOptions } from "./options.ts"
import { FanOutClient } from "./transport/client.ts"
import type { EndpointEvent } from "./transport/endpoint-event.ts"
import { Endpoint } from "./transport/endpoint.ts"

/** The model and its client (close the client when done). */
export interface OpenedOpenAiModel {
  readonly service: LanguageModelService
  readonly client: FanOutClient
}

/** Builds the client; throws naming the variable when a named key variable is unset. */
export const openOpenAiModel = (options: typeof OpenAiLmOptions.Encoded, env: Readonly<Record<string, string | undefined>>, onEvent?: (event: EndpointEvent) => void): OpenedOpenAiModel => {
  const keys: Array<string> = []
  const keyFrom = (name: string | undefined) => {
    if (name === undefined) return undefined
    const value = env[name]
    if (value === undefined || value === "") throw new Error(`the environment variable ${name} (api_key_env) is not set`)
    keys.push(value)
    return value
  }
  const breaker = {
    failureThreshold: options.breaker?.failure_threshold ?? defaults.breaker.failure_threshold,
    cooldownMs: options.breaker?.cooldown_ms ?? defaults.breaker.cooldown_ms,
    maxCooldownMs: options.breaker?.max_cooldown_ms ?? defaults.breaker.max_cooldown_ms
  }
  const endpoints = options.endpoints.map((e) => {
    const key = keyFrom(e.api_key_env ?? options.api_key_env)
    return new Endpoint({ url: e.url, maxConcurrency: e.max_concurrency ?? options.max_concurrency ?? defaults.max_concurrency, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } }, breaker)
  })
  const redact = (text: string) => keys.reduce((out, key) => (key.length >= 4 ? out.split(key).join("[redacted]") : out), text)
  const client = new FanOutClient(endpoints, {
    maxAttempts: options.retries?.max_attempts ?? defaults.retries.max_attempts,
    timeoutMs: options.timeout_ms ?? defaults.timeout_ms,
    backoff: { baseMs: options.retries?.base_delay_ms ?? defaults.retries.base_delay_ms, maxMs: options.retries?.max_delay_ms ?? defaults.retries.max_delay_ms },
    giveUpMs: options.breaker?.give_up_ms ?? 120_000,
    // An explicit give_up_ms is a promise to wait that long, also for servers still starting.
    failWhenNeverReached: options.breaker?.give_up_ms === undefined,
    slowWarningMs: options.slow_warning_ms ?? defaults.slow_warning_ms
  }, (event) => onEvent?.(event.type === "endpoint_down" ? { ...event, reason: redact(event.reason) } : event))
  const service = makeOpenAiLanguageModel(client, {
    id: options.id ?? `openai:${options.model}`,
    model: options.model,
    contextLength: options.context_length ?? defaults.context_length,
    api: options.api ?? defaults.api,
    logprobs: options.logprobs ?? defaults.logprobs,
    score: options.score ?? defaults.score,
    scoreMaxTokens: options.score_max_tokens ?? defaults.score_max_tokens,
    tokenize: options.tokenize ?? defaults.tokenize,
    streamUsage: options.stream_usage ?? defaults.stream_usage,
    redact
  })
  return { service, client }
}
