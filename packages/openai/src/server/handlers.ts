/**
 * The three model routes: `/v1/models`, `/v1/completions` and
 * `/v1/chat/completions`. A body is decoded with the protocol Schemas (a
 * wrong type is a 400 naming the field), checked against the server's limits
 * (`n`, prompts per request, context), then sent to the model.
 *
 * @example
 * ```ts
 * import { makeRoutes } from "@refine-af/openai"
 * // const routes = makeRoutes({ model: lm, modelName: "tiny", maxChoices: 8, maxPrompts: 32 })
 * ```
 */
import type { GenerationRequest, LanguageModelError, LanguageModelService } from "@refine-af/core"
import { Effect, Exit, Schema } from "effect"
import type { ServerResponse } from "node:http"
import { ChatCompletionRequest } from "../protocol/chat.ts"
import { CompletionRequest } from "../protocol/completions.ts"
import type { ModelList } from "../protocol/models.ts"
import { problemOfFailure, stderrLog, type ServerLog } from "./failure.ts"
import { HttpProblem } from "./http-error.ts"
import { sendJson } from "./http-io.ts"
import { streamChoices } from "./streaming.ts"
import { chatBody, completionBody } from "./to-body.ts"
import { chatRequests, completionRequests, promptsOf } from "./to-model.ts"

/** What the routes serve and their limits. */
export interface RouteOptions {
  readonly model: LanguageModelService
  /** The name clients pass as `model` (the model's `info.id` is accepted too). */
  readonly modelName: string
  /** Most choices (`n`) per request. */
  readonly maxChoices: number
  /** Most prompts in one completions request. */
  readonly maxPrompts: number
  /** Where failures on the server's side are written (default: standard error). */
  readonly log?: ServerLog
}

let counter = 0
const requestId = (prefix: string) => `${prefix}-${Date.now().toString(36)}${(counter++).toString(36)}`

const isTokenIds = (value: unknown): boolean =>
  Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "number" || (Array.isArray(item) && item.every((id) => typeof id === "number")))

const decode = <S extends Schema.Top>(schema: S, value: unknown): S["Type"] => {
  // vLLM accepts token ids as the prompt; this server takes text only, and says so.
  if (typeof value === "object" && value !== null && isTokenIds((value as { prompt?: unknown }).prompt)) {
    throw HttpProblem.badRequest("Token-id prompts are not supported by this server: send the prompt as text (a string, or a list of strings).", "prompt", "unsupported")
  }
  try {
    return Schema.decodeUnknownSync(schema as never)(value) as S["Type"]
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    // The schema's issue path names the field, e.g. `at ["max_tokens"]`: OpenAI's `param`.
    const param = /at \["([^"]+)"\]/.exec(message)?.[1] ?? null
    throw HttpProblem.badRequest(`Invalid request body: ${message}`, param)
  }
}

const run = async <A>(effect: Effect.Effect<A, LanguageModelError>, signal: AbortSignal, log: ServerLog): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect, { signal })
  if (Exit.isSuccess(exit)) return exit.value
  throw problemOfFailure(exit.cause, { log, signal, what: "The model failed unexpectedly" })
}

/** Makes the route handlers. Each throws an {@link HttpProblem} for a request it refuses. */
export const makeRoutes = (options: RouteOptions) => {
  const { model, modelName } = options
  const log = options.log ?? stderrLog
  const context = model.info.contextLength

  const checkModel = (name: string) => {
    if (name !== modelName && name !== model.info.id) {
      throw HttpProblem.notFound(`The model "${name}" does not exist on this server; it serves "${modelName}" (see GET /v1/models).`, "model_not_found")
    }
  }
  const checkChoices = (n: number | null | undefined) => {
    if ((n ?? 1) > options.maxChoices) throw HttpProblem.badRequest(`n is ${n}; this server allows at most ${options.maxChoices} choices per request.`, "n")
  }
  /** Token counts of each prompt (undefined when the model cannot count); a prompt that fills the context is refused before it reaches the queue. */
  const promptTokens = async (prompts: ReadonlyArray<string>, signal: AbortSignal) => {
    const counts: Array<number> = []
    for (const prompt of prompts) {
      const exit = await Effect.runPromiseExit(model.countTokens(prompt), { signal })
      if (Exit.isFailure(exit)) return undefined
      if (exit.value >= context) {
        throw HttpProblem.badRequest(`The prompt has ${exit.value} tokens; the model's context is ${context} tokens.`, "prompt", "context_length_exceeded")
      }
      counts.push(exit.value)
    }
    return counts
  }

  const models = (): ModelList => ({
    object: "list",
    data: [{ id: modelName, object: "model", created: 0, owned_by: "refine-af", max_model_len: context }]
  })

  const completions = async (raw: unknown, response: ServerResponse, signal: AbortSignal) => {
    const body = decode(CompletionRequest, raw)
    checkModel(body.model)
    checkChoices(body.n)
    const prompts = promptsOf(body)
    if (prompts.length === 0 || prompts.length > options.maxPrompts) {
      throw HttpProblem.badRequest(`prompt holds ${prompts.length} prompts; give 1 to ${options.maxPrompts}.`, "prompt")
    }
    const wantLogprobs = body.logprobs != null
    if (body.echo && wantLogprobs) {
      throw HttpProblem.badRequest("echo with logprobs (prompt logprobs) is not supported by this server; score continuations through the LanguageModel API instead.", "echo", "unsupported")
    }
    const counts = await promptTokens(prompts, signal)
    const requests = completionRequests(body, context)
    const n = body.n ?? 1
    if (body.stream) {
      if (body.echo) throw HttpProblem.badRequest("echo is not supported with stream: true on this server.", "echo", "unsupported")
      // The context may end a generation before max_tokens: that is a "length" finish too.
      const budgets = requests.map((request, choice) => Math.min(request.params.maxNewTokens, counts === undefined ? Infinity : context - counts[Math.floor(choice / n)]!))
      return streamChoices(model, requests, response, { kind: "completion", id: requestId("cmpl"), model: modelName, logprobs: wantLogprobs, includeUsage: body.stream_options?.include_usage === true, signal, log, promptOf: (choice) => Math.floor(choice / n), promptTokens: counts, budgets })
    }
    const generations = await run(model.generate(requests), signal, log)
    sendJson(response, 200, completionBody(requestId("cmpl"), modelName, generations, { logprobs: wantLogprobs, echoPrompts: body.echo ? prompts : undefined, promptOf: (choice) => Math.floor(choice / n) }))
  }

  const chat = async (raw: unknown, response: ServerResponse, signal: AbortSignal) => {
    const body = decode(ChatCompletionRequest, raw)
    checkModel(body.model)
    checkChoices(body.n)
    const requests: Array<GenerationRequest> = chatRequests(body, context)
    const logprobs = body.logprobs === true
    if (body.stream) {
      return streamChoices(model, requests, response, { kind: "chat", id: requestId("chatcmpl"), model: modelName, logprobs, includeUsage: body.stream_options?.include_usage === true, signal, log, promptOf: () => 0, promptTokens: undefined, budgets: requests.map((request) => request.params.maxNewTokens) })
    }
    const generations = await run(model.generate(requests), signal, log)
    sendJson(response, 200, chatBody(requestId("chatcmpl"), modelName, generations, { logprobs }))
  }

  return { models, completions, chat }
}
