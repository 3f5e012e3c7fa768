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
import { defineResource, LanguageModel, StageError } from "@refine-af/core"
import { Effect } from "effect"
import { openOpenAiModel } from "./open.ts"
import { OpenAiLmOptions } from "./options.ts"

export const openAiLmResource = defineResource({
  description: "LanguageModel over OpenAI-compatible servers: N endpoints, least-outstanding balancing, retries with backoff, timeouts, circuit breaker; keys from named environment variables.",
  provides: LanguageModel,
  options: OpenAiLmOptions,
  make: (ctx) =>
    Effect.gen(function* () {
      const opened = yield* Effect.try({
        try: () => openOpenAiModel(ctx.options, process.env, (event) => Effect.runFork(ctx.events.emit(event.type, { endpoint: event.endpoint, ...(event.reason ? { reason: event.reason } : {}) }))),
        catch: (error) => new StageError({ stage: ctx.name, message: `${ctx.name}: ${error instanceof Error ? error.message : String(error)}`, fix: "Export the environment variable named by api_key_env (its value is never written to the run folder)." })
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => opened.client.close()))
      return opened.service
    })
})
