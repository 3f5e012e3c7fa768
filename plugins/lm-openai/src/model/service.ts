/**
 * The `LanguageModel` service over a {@link FanOutClient}: `generate` sends
 * every request concurrently (the pool caps each endpoint), `stream` reads
 * SSE (retried only until the first token arrived, so no output is ever
 * duplicated), `score` uses echo + logprobs, `countTokens` uses vLLM's
 * `/tokenize` when enabled. Interrupting an effect aborts its HTTP requests.
 *
 * @example
 * ```ts
 * import { makeOpenAiLanguageModel } from "@refine-af/lm-openai"
 * // const lm = makeOpenAiLanguageModel(client, { id: "openai:m", model: "m", contextLength: 4096, api: "completions", logprobs: true, score: "echo", scoreMaxTokens: 1, tokenize: "none", streamUsage: true, redact: (s) => s })
 * ```
 */
import type { GenerationChunk, GenerationRequest, LanguageModelError, LanguageModelService } from "@refine-af/core"
import { ChatCompletionChunk, ChatCompletionResponse, CompletionResponse } from "@refine-af/openai"
import { Effect, Queue, Schema, Stream } from "effect"
import { AttemptFailure } from "../transport/attempt-error.ts"
import type { FanOutClient } from "../transport/client.ts"
import type { Endpoint } from "../transport/endpoint.ts"
import { requestJson, requestStream, type AttemptOptions } from "../transport/http.ts"
import { toModelError, unsupported } from "./errors.ts"
import { continuationScore, scoreBody } from "./score.ts"
import { finishReason, fromChat, fromCompletion, requestBody, type WireOptions } from "./to-wire.ts"

/** What the service needs beside the client. */
export interface OpenAiModelOptions extends WireOptions {
  readonly id: string
  readonly contextLength: number
  readonly score: "echo" | "unsupported"
  /** `max_tokens` of a scoring request (some servers refuse 0). */
  readonly scoreMaxTokens: number
  readonly tokenize: "vllm" | "none"
  /**
   * Ask streams for the prompt's token count (`stream_options.include_usage`). An endpoint that
   * refuses the field (400/422 naming it) is asked again without it, and from then on never with it.
   */
  readonly streamUsage: boolean
  /** Removes secrets from any message. */
  readonly redact: (text: string) => string
}

/** Decodes a body or fails the attempt as malformed (retryable: another server may answer well). */
const decodeAs = <S extends Schema.Top>(schema: S, value: unknown, what: string): S["Type"] => {
  try {
    const decoded = Schema.decodeUnknownSync(schema as never)(value) as { choices?: ReadonlyArray<unknown> }
    if (Array.isArray(decoded.choices) && decoded.choices.length === 0 && what !== "chunk") throw new Error("no choices")
    return decoded as S["Type"]
  } catch (error) {
    throw new AttemptFailure("malformed", `The server's ${what} does not follow the OpenAI protocol: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}`, true)
  }
}

/** Whether a failed attempt is the server refusing `stream_options` (a strict server that does not know it). */
const refusesStreamOptions = (error: unknown): boolean =>
  error instanceof AttemptFailure && error.kind === "status" && (error.status === 400 || error.status === 422) && /stream_options|include_usage/.test(error.message)

/** Builds the service. */
export const makeOpenAiLanguageModel = (client: FanOutClient, options: OpenAiModelOptions): LanguageModelService => {
  // Endpoints (by url) that refused `stream_options`: their streams go without it.
  const noStreamUsage = new Set<string>()
  /** The stream's chunks, with the usage chunk asked for where the endpoint takes it. */
  async function* streamChunks(endpoint: Endpoint, path: string, body: Record<string, unknown>, attempt: AttemptOptions): AsyncGenerator<unknown> {
    if (!options.streamUsage || noStreamUsage.has(endpoint.config.url)) return yield* requestStream(endpoint.config, path, body, attempt)
    const chunks = requestStream(endpoint.config, path, { ...body, stream_options: { include_usage: true } }, attempt)
    let first: IteratorResult<unknown>
    try {
      // The status arrives before the first chunk: a refusal is known before anything was yielded.
      first = await chunks.next()
    } catch (error) {
      if (!refusesStreamOptions(error)) throw error
      noStreamUsage.add(endpoint.config.url)
      return yield* requestStream(endpoint.config, path, body, attempt)
    }
    if (first.done) return
    yield first.value
    yield* chunks
  }

  const call = <A>(attempt: (endpoint: Endpoint, options: AttemptOptions) => Promise<A>, retryIf?: () => boolean) =>
    Effect.tryPromise({ try: (signal) => client.call(attempt, signal, retryIf), catch: (error) => toModelError(error, options.redact) })

  const generateOne = (request: GenerationRequest) => {
    const { path, chat, body } = requestBody(request, options)
    return call((endpoint, attempt) =>
      requestJson(endpoint.config, path, body, attempt).then((json) => (chat ? fromChat(decodeAs(ChatCompletionResponse, json, "answer")) : fromCompletion(decodeAs(CompletionResponse, json, "answer"))))
    )
  }

  const stream = (request: GenerationRequest) =>
    Stream.callback<GenerationChunk, LanguageModelError>((queue) => {
      const { path, chat, body } = requestBody(request, options, { stream: true })
      let emitted = 0
      return call(async (endpoint, attempt) => {
        // Why it ended (the choice's finish_reason) and the prompt's length (usage, where the server sends it).
        let finish: GenerationChunk["finish"]
        let promptTokens: number | undefined
        const note = (usage: { readonly prompt_tokens: number } | null | undefined, choices: ReadonlyArray<{ readonly finish_reason?: string | null | undefined; readonly stop_reason?: unknown }>) => {
          if (usage) promptTokens = usage.prompt_tokens
          for (const c of choices) if (c.finish_reason) finish = { reason: finishReason(c.finish_reason, c.stop_reason, "stop_reason" in c) }
        }
        for await (const raw of streamChunks(endpoint, path, body, attempt)) {
          let pieces: Array<{ readonly text: string; readonly logprob: number }>
          if (chat) {
            const chunk = decodeAs(ChatCompletionChunk, raw, "chunk")
            note(chunk.usage, chunk.choices)
            pieces = chunk.choices.flatMap((c) => {
              const content = c.logprobs?.content ?? []
              const text = c.delta.content ?? ""
              return text === "" ? [] : [{ text, logprob: content.reduce((sum, t) => sum + t.logprob, 0) }]
            })
          } else {
            const chunk = decodeAs(CompletionResponse, raw, "chunk")
            note(chunk.usage, chunk.choices)
            pieces = chunk.choices.flatMap((c) => (c.text === "" ? [] : [{ text: c.text, logprob: (c.logprobs?.token_logprobs ?? []).reduce<number>((sum, v) => sum + (v ?? 0), 0) }]))
          }
          for (const piece of pieces) {
            emitted++
            Queue.offerUnsafe(queue, { text: piece.text, logprob: piece.logprob })
          }
        }
        if (finish !== undefined) Queue.offerUnsafe(queue, { text: "", finish: promptTokens === undefined ? finish : { ...finish, promptTokens } })
      }, () => emitted === 0).pipe(
        // Tokens already queued reach the consumer before the failure.
        Effect.matchEffect({ onSuccess: () => Queue.end(queue), onFailure: (error) => Queue.fail(queue, error) })
      )
    })

  return {
    info: { id: options.id, contextLength: options.contextLength },
    generate: (requests) => Effect.forEach(requests, generateOne, { concurrency: "unbounded" }),
    stream,
    score: (requests) =>
      options.score === "unsupported"
        ? Effect.fail(unsupported("Scoring is turned off for this model (score: unsupported).", "Set score: echo for a server that supports echo + logprobs (vLLM), or score with a local model."))
        : Effect.forEach(requests, (request) =>
          call((endpoint, attempt) => requestJson(endpoint.config, "/completions", scoreBody(options.model, request, options.scoreMaxTokens), attempt).then((json) => decodeAs(CompletionResponse, json, "answer"))).pipe(
            Effect.mapError((error) => (error.reason === "InvalidRequest" && /echo|logprob|prompt_logprobs/i.test(error.message) ? unsupported(error.message, "Use a server that supports echo + logprobs (vLLM), or set score: unsupported.") : error)),
            Effect.flatMap((json) => {
              const scored = continuationScore(request, json)
              return "total" in scored ? Effect.succeed(scored) : Effect.fail(scored)
            })
          ), { concurrency: "unbounded" }),
    countTokens: (text) =>
      options.tokenize === "none"
        ? Effect.fail(unsupported("OpenAI-compatible servers have no standard tokenizer endpoint.", "Set tokenize: vllm for a vLLM server (POST /tokenize), or count tokens with a local model."))
        // vLLM serves /tokenize beside /v1, not under it.
        : call((endpoint, attempt) => requestJson({ ...endpoint.config, url: endpoint.config.url.replace(/\/v1\/?$/, "") }, "/tokenize", { model: options.model, prompt: text, add_special_tokens: false }, attempt)).pipe(
          Effect.flatMap((json) => {
            const count = (json as { count?: unknown }).count
            return typeof count === "number" ? Effect.succeed(count) : Effect.fail(unsupported("The server's /tokenize answer has no count.", "Use tokenize: vllm only with vLLM servers."))
          })
        )
  }
}
