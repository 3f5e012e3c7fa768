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

const positive = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

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
  /** Endpoint for plain string prompts: completions (default) or chat (sent as one user message). */
  api: Schema.optionalKey(Schema.Literals(["completions", "chat"])).annotate({ description: "Endpoint for plain string prompts: completions (default) or chat (sent as one user message)." }),
  /** Request per-token logprobs with every generation (default true). */
  logprobs: Schema.optionalKey(Schema.Boolean).annotate({ description: "Request per-token logprobs with every generation (default true)." }),
  /** How `score` works: echo + logprobs on /completions (default), or unsupported. */
  score: Schema.optionalKey(Schema.Literals(["echo", "unsupported"])).annotate({ description: "How `score` works: echo + logprobs on /completions (default), or unsupported." }),
  /** max_tokens of a scoring request (default 1; vLLM accepts 0). */
  score_max_tokens: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))).annotate({ description: "max_tokens of a scoring request (default 1; vLLM accepts 0)." }),
  /** countTokens through vLLM's POST /tokenize, or unsupported (default none). */
  tokenize: Schema.optionalKey(Schema.Literals(["vllm", "none"])).annotate({ description: "countTokens through vLLM's POST /tokenize, or unsupported (default none)." }),
  /** The model's context length in tokens (default 4096). */
  context_length: Schema.optionalKey(positive).annotate({ description: "The model's context length in tokens (default 4096)." }),
  /** Default per-endpoint concurrency limit (default 16). */
  max_concurrency: Schema.optionalKey(positive).annotate({ description: "Default per-endpoint concurrency limit (default 16)." }),
  /** Per-attempt timeout in ms; for streams, the longest silence (default 120000). */
  timeout_ms: Schema.optionalKey(positive).annotate({ description: "Per-attempt timeout in ms; for streams, the longest silence (default 120000)." }),
  /** Warn when an endpoint has sent nothing this long while requests wait on it, and again each time as long (default 30000). */
  slow_warning_ms: Schema.optionalKey(positive).annotate({ description: "Warn on the console when an endpoint has sent nothing for this long while requests wait on it, and again each time as long, until timeout_ms ends the attempt (default 30000)." }),
  retries: Schema.optionalKey(Schema.Struct({
    /** Attempts per request, first included (default 6). */
    max_attempts: Schema.optionalKey(positive).annotate({ description: "Attempts per request, first included (default 6)." }),
    /** First backoff in ms (default 250), doubled per attempt up to max_delay_ms (default 10000), with jitter. */
    base_delay_ms: Schema.optionalKey(positive).annotate({ description: "First backoff in ms (default 250), doubled per attempt up to max_delay_ms (default 10000), with jitter." }),
    max_delay_ms: Schema.optionalKey(positive).annotate({ description: "Longest backoff in ms (default 10000)." })
  }).annotate({ description: "Retries of failed or timed-out attempts (with backoff and Retry-After)." })),
  breaker: Schema.optionalKey(Schema.Struct({
    /** Consecutive failures that open an endpoint's circuit (default 3). */
    failure_threshold: Schema.optionalKey(positive).annotate({ description: "Consecutive failures that open an endpoint's circuit (default 3)." }),
    /** First time an open endpoint gets no traffic before a probe, in ms (default 2000; doubles on a failed probe up to 60000). */
    cooldown_ms: Schema.optionalKey(positive).annotate({ description: "First time an open endpoint gets no traffic before a probe, in ms (default 2000; doubles on a failed probe up to 60000)." }),
    max_cooldown_ms: Schema.optionalKey(positive).annotate({ description: "Longest cooldown of an open endpoint in ms (default 60000)." }),
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
