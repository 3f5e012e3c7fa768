/**
 * Recipe component `openai/lm`: a `LanguageModel` served by one or many
 * OpenAI-compatible servers (vLLM, TGI, llama.cpp server, Ollama,
 * `refine-af serve`). Keys come from the environment variables the recipe
 * names; a missing one fails before any request, naming the variable.
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/lm-openai"]
 * resources:
 *   policy: { _component_: openai/lm, model: tiny, endpoints: [{ url: "http://127.0.0.1:8000/v1" }] }
 * ```
 */
import { defineResource, LanguageModel, StageError, type EventSink } from "@refine-af/core"
import { Effect } from "effect"
import { openOpenAiModel } from "./open.ts"
import { OpenAiLmOptions } from "./options.ts"
import { describeEndpointEvent, type EndpointEvent } from "./transport/endpoint-event.ts"

/**
 * Every endpoint event is a console warning as it happens (a run with a dead
 * server must not sit silent); transitions are also kept as structured
 * events (`endpoint_down`, `endpoint_up`) in the run's events.
 */
const reportEndpointEvent = (events: EventSink, event: EndpointEvent) =>
  Effect.andThen(
    event.type === "endpoint_slow" ? Effect.void : events.emit(event.type, { endpoint: event.endpoint, ...(event.type === "endpoint_down" ? { reason: event.reason } : {}) }),
    events.warn(describeEndpointEvent(event))
  )

export const openAiLmResource = defineResource({
  description: "LanguageModel over OpenAI-compatible servers: N endpoints, least-outstanding balancing, retries with backoff, timeouts, circuit breaker; keys from named environment variables.",
  provides: LanguageModel,
  options: OpenAiLmOptions,
  make: (ctx) =>
    Effect.gen(function* () {
      const opened = yield* Effect.try({
        try: () => openOpenAiModel(ctx.options, process.env, (event) => Effect.runSync(reportEndpointEvent(ctx.events, event))),
        catch: (error) => new StageError({ stage: ctx.name, message: `${ctx.name}: ${error instanceof Error ? error.message : String(error)}`, fix: "Export the environment variable named by api_key_env (its value is never written to the run folder)." })
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => opened.client.close()))
      return opened.service
    })
})
