/**
 * `@refine-af/lm-openai` (manifest name `openai`): the `LanguageModel` over
 * OpenAI-compatible servers. Component `lm` (`_component_: openai/lm`).
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/lm-openai"]
 * resources:
 *   policy:
 *     _component_: openai/lm
 *     model: tiny
 *     endpoints: [{ url: "http://127.0.0.1:8000/v1" }, { url: "http://127.0.0.1:8001/v1" }]
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { openAiLmResource } from "./resource.ts"

export { openAiLmResource } from "./resource.ts"
export { OpenAiLmOptions, EndpointOptions } from "./options.ts"
export { openOpenAiModel, type OpenedOpenAiModel } from "./open.ts"
export * from "./transport/attempt-error.ts"
export * from "./transport/backoff.ts"
export * from "./transport/endpoint.ts"
export * from "./transport/endpoint-event.ts"
export * from "./transport/pool.ts"
export * from "./transport/http.ts"
export * from "./transport/client.ts"
export * from "./model/errors.ts"
export * from "./model/to-wire.ts"
export * from "./model/score.ts"
export * from "./model/service.ts"

/** The plugin manifest. */
export default definePlugin({
  name: "openai",
  version: "0.1.2",
  description: "LanguageModel over OpenAI-compatible servers (vLLM, TGI, llama.cpp, Ollama, refine-af serve)",
  components: { lm: openAiLmResource }
})
