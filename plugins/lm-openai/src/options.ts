/**
 * Options of `openai/lm`. API keys are never options: a recipe names the
 * environment variable that holds the key (`api_key_env`), so the resolved
 * recipe in the run folder, the events and every error carry the name only.
 *
 * @example
 * ```yaml
 * resources:
 *   policy:
 *     _component_: openai/lm
 *     model: meta-llama/Llama-2-7b-hf
 *     endpoints: [{ url: "http://10.0.0.5:8000/v1" }, { url: "http://10.0.0.6:8000/v1", max_concurrency: 64 }]
 *     api_key_env: VLLM_API_KEY
 * ```
 */
import { Schema } from "effect"
import { withDefault } from "@refine-af/core"

const positive = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))


/**
 * What an absent option means: the recipe's Schema fills these in, and `openOpenAiModel` (which takes
 * the options as a recipe writes them) uses the same values.
 */
export const openAiLmDefaults = {
  api: "completions",
  logprobs: true,
  score: "echo",
  score_max_tokens: 1,
  tokenize: "none",
  stream_usage: true,
  context_length: 4096,
  max_concurrency: 16,
  timeout_ms: 120_000,
  slow_warning_ms: 30_000,
  retries: { max_attempts: 6, base_delay_ms: 250, max_delay_ms: 10_000 },
  breaker: { failure_threshold: 3, cooldown_ms: 2000, max_cooldown_ms: 60_000 }
} as const

/** One server. */
export const EndpointOptions = Schema.Struct({
  /** Base URL including `/v1`, e.g. http://127.0.0.1:8000/v1. */
  url: Schema.String.check(Schema.isPattern(/^https?:\/\/[^\s]+$/)).annotate({ description: "Base URL including `/v1`, e.g. http://127.0.0.1:8000/v1." }),
  /** Requests in flight to this server at most (default: max_concurrency). */
  max_concurrency: Schema.optionalKey(positive).annotate({ description: "Requests in flight to this server at most (default: max_concurrency)." }),
  /** Environment variable with this server's API key (default: api_key_env). */
  api_key_env: Schema.optionalKey(Schema.String).annotate({ description: "Environment variable with this server's API key (default: api_key_env)." })
})

export const OpenAiLmOptions = Schema.Struct({
  /** The model name the servers expect in `model`. */
  model: Schema.String.annotate({ description: "The model name the servers expect in `model`." }),
  endpoints: Schema.Array(EndpointOptions).check(Schema.isMinLength(1)).annotate({ description: "The servers; requests go to the one with the fewest in flight." }),
  /** Environment variable holding the API key sent as `Authorization: Bearer` (none when unset). */
  api_key_env: Schema.optionalKey(Schema.String).annotate({ description: "Environment variable holding the API key sent as `Authorization: Bearer` (none when unset)." }),
  /** Endpoint for plain string prompts: completions or chat (sent as one user message). */
  api: Schema.Literals(["completions", "chat"]).annotate({ description: "Endpoint for plain string prompts: completions or chat (sent as one user message)." }).pipe(withDefault(openAiLmDefaults.api)),
  /** Request per-token logprobs with every generation. */
  logprobs: Schema.Boolean.annotate({ description: "Request per-token logprobs with every generation." }).pipe(withDefault(openAiLmDefaults.logprobs)),
  /** How `score` works: echo + logprobs on /completions, or unsupported. */
  score: Schema.Literals(["echo", "unsupported"]).annotate({ description: "How `score` works: echo + logprobs on /completions, or unsupported." }).pipe(withDefault(openAiLmDefaults.score)),
  /** max_tokens of a scoring request (vLLM accepts 0). */
  score_max_tokens: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "max_tokens of a scoring request (vLLM accepts 0)." }).pipe(withDefault(openAiLmDefaults.score_max_tokens)),
  /** countTokens through vLLM's POST /tokenize, or unsupported (none). */
  tokenize: Schema.Literals(["vllm", "none"]).annotate({ description: "countTokens through vLLM's POST /tokenize, or unsupported (none)." }).pipe(withDefault(openAiLmDefaults.tokenize)),
  /** Ask streams for the prompt's token count (`stream_options.include_usage`); a server that refuses the field is asked without it. */
  stream_usage: Schema.Boolean.annotate({ description: "Ask streams for the prompt's token count (`stream_options.include_usage`: OpenAI, vLLM, refine-af serve); a server that refuses the field (400 naming it) is asked again without it, and from then on never with it." }).pipe(withDefault(openAiLmDefaults.stream_usage)),
  /** The model's context length in tokens. */
  context_length: positive.annotate({ description: "The model's context length in tokens." }).pipe(withDefault(openAiLmDefaults.context_length)),
  /** Default per-endpoint concurrency limit. */
  max_concurrency: positive.annotate({ description: "Default per-endpoint concurrency limit." }).pipe(withDefault(openAiLmDefaults.max_concurrency)),
  /** Per-attempt timeout in ms; for streams, the longest silence. */
  timeout_ms: positive.annotate({ description: "Per-attempt timeout in ms; for streams, the longest silence." }).pipe(withDefault(openAiLmDefaults.timeout_ms)),
  /** Warn when an endpoint has sent nothing this long while requests wait on it, and again each time as long. */
  slow_warning_ms: positive.annotate({ description: "Warn on the console when an endpoint has sent nothing for this long while requests wait on it, and again each time as long, until timeout_ms ends the attempt." }).pipe(withDefault(openAiLmDefaults.slow_warning_ms)),
  retries: Schema.optionalKey(Schema.Struct({
    /** Attempts per request, first included. */
    max_attempts: positive.annotate({ description: "Attempts per request, first included." }).pipe(withDefault(openAiLmDefaults.retries.max_attempts)),
    /** First backoff in ms, doubled per attempt up to max_delay_ms, with jitter. */
    base_delay_ms: positive.annotate({ description: "First backoff in ms, doubled per attempt up to max_delay_ms, with jitter." }).pipe(withDefault(openAiLmDefaults.retries.base_delay_ms)),
    max_delay_ms: positive.annotate({ description: "Longest backoff in ms." }).pipe(withDefault(openAiLmDefaults.retries.max_delay_ms))
  }).annotate({ description: "Retries of failed or timed-out attempts (with backoff and Retry-After)." })),
  breaker: Schema.optionalKey(Schema.Struct({
    /** Consecutive failures that open an endpoint's circuit. */
    failure_threshold: positive.annotate({ description: "Consecutive failures that open an endpoint's circuit." }).pipe(withDefault(openAiLmDefaults.breaker.failure_threshold)),
    /** First time an open endpoint gets no traffic before a probe, in ms (doubles on a failed probe up to max_cooldown_ms). */
    cooldown_ms: positive.annotate({ description: "First time an open endpoint gets no traffic before a probe, in ms (doubles on a failed probe up to max_cooldown_ms)." }).pipe(withDefault(openAiLmDefaults.breaker.cooldown_ms)),
    max_cooldown_ms: positive.annotate({ description: "Longest cooldown of an open endpoint in ms." }).pipe(withDefault(openAiLmDefaults.breaker.max_cooldown_ms)),
    /**
     * Once every endpoint has been down (circuit open) this long, waiting requests fail (default 120000).
     * Unset, requests also fail at once when no endpoint has answered since the start and each refuses
     * connections (a wrong URL, a server not started); set, that wait holds then too (servers still starting).
     */
    give_up_ms: Schema.optionalKey(positive).annotate({ description: "Once every endpoint has been down (circuit open) this long, waiting requests fail instead of waiting for a probe to succeed (default 120000). When unset, requests fail at once if no endpoint has answered since the start and each refuses connections; set it (e.g. 600000) to wait that long for servers still starting." })
  }).annotate({ description: "Per-endpoint circuit breaker." })),
  /** Identity in lineage and cache keys (default openai:<model>). */
  id: Schema.optionalKey(Schema.String).annotate({ description: "Identity in lineage and cache keys (default openai:<model>)." })
})
export type OpenAiLmOptions = typeof OpenAiLmOptions.Type
