/**
 * SSE responses: every choice streams from the model concurrently (so a
 * batching model decodes them together); each token becomes one chunk with
 * its text and, when asked, its logprob. A model failure mid-stream is sent as
 * `data: {"error": ...}` and the stream ends without `[DONE]`, so clients see
 * the failure instead of a silently short answer.
 *
 * @example
 * ```ts
 * import { streamChoices } from "@refine-af/openai"
 * // await streamChoices(lm, requests, response, { kind: "chat", id, model, logprobs: true, includeUsage: false, signal, log: console.error, promptOf: () => 0, promptTokens: undefined, budgets: [16] })
 * ```
 */
import type { GenerationChunk, GenerationRequest, LanguageModelService } from "@refine-af/core"
import { Effect, Exit, Stream } from "effect"
import type { ServerResponse } from "node:http"
import { SSE_DONE, sseData } from "../sse/encode.ts"
import { problemOfFailure, type ServerLog } from "./failure.ts"

/** What the stream is for. */
export interface StreamShape {
  readonly kind: "completion" | "chat"
  readonly id: string
  readonly model: string
  readonly logprobs: boolean
  readonly includeUsage: boolean
  readonly signal: AbortSignal
  /** Where failures on the server's side are written. */
  readonly log: ServerLog
  /** The prompt of choice `i` (choices of one prompt share it; the usage counts each prompt once). */
  readonly promptOf: (choice: number) => number
  /** Each prompt's token count where the server counted it; a count the model's stream tells (`finish.promptTokens`: special tokens and a chat template included) wins. */
  readonly promptTokens: ReadonlyArray<number> | undefined
  /** The most tokens request `i` can produce (max_tokens, or less where the context ends first): reaching it finishes with "length" where the model's stream does not say why it ended. */
  readonly budgets: ReadonlyArray<number>
}

const encoder = new TextEncoder()

const chunkBody = (shape: StreamShape, choice: unknown) => ({
  id: shape.id,
  object: shape.kind === "chat" ? "chat.completion.chunk" : "text_completion",
  created: Math.floor(Date.now() / 1000),
  model: shape.model,
  choices: [choice]
})

const tokenChoice = (shape: StreamShape, index: number, chunk: GenerationChunk, offset: number) =>
  shape.kind === "chat"
    ? {
      index,
      delta: { content: chunk.text },
      logprobs: shape.logprobs && chunk.logprob !== undefined ? { content: [{ token: chunk.text, logprob: chunk.logprob, bytes: [...encoder.encode(chunk.text)], top_logprobs: [] }] } : null,
      finish_reason: null
    }
    : {
      index,
      text: chunk.text,
      logprobs: shape.logprobs && chunk.logprob !== undefined ? { tokens: [chunk.text], token_logprobs: [chunk.logprob], top_logprobs: null, text_offset: [offset] } : null,
      finish_reason: null
    }

const finalChoice = (shape: StreamShape, index: number, finish: string) =>
  shape.kind === "chat" ? { index, delta: {}, logprobs: null, finish_reason: finish } : { index, text: "", logprobs: null, finish_reason: finish }

/** Streams every request as choice `i`; resolves when the response is complete. */
export const streamChoices = async (lm: LanguageModelService, requests: ReadonlyArray<GenerationRequest>, response: ServerResponse, shape: StreamShape): Promise<void> => {
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" })
  let completionTokens = 0
  const toldPromptTokens = new Map<number, number>()
  if (shape.kind === "chat") {
    requests.forEach((_, index) => response.write(sseData(chunkBody(shape, { index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }))))
  }
  const one = (request: GenerationRequest, index: number) =>
    Effect.suspend(() => {
      let tokens = 0
      let offset = 0
      let told: GenerationChunk["finish"]
      return lm.stream(request).pipe(
        Stream.runForEach((chunk) =>
          Effect.sync(() => {
            if (chunk.finish !== undefined) {
              told = chunk.finish
              if (chunk.finish.promptTokens !== undefined) toldPromptTokens.set(shape.promptOf(index), chunk.finish.promptTokens)
              if (chunk.tokenId === undefined && chunk.text === "") return
            }
            response.write(sseData(chunkBody(shape, tokenChoice(shape, index, chunk, offset))))
            tokens++
            offset += chunk.text.length
          })
        ),
        Effect.tap(() =>
          Effect.sync(() => {
            completionTokens += tokens
            const finish = told !== undefined ? (told.reason === "length" ? "length" : "stop") : tokens >= shape.budgets[index]! ? "length" : "stop"
            response.write(sseData(chunkBody(shape, finalChoice(shape, index, finish))))
          })
        )
      )
    })
  const exit = await Effect.runPromiseExit(Effect.forEach(requests, one, { concurrency: "unbounded", discard: true }), { signal: shape.signal })
  if (Exit.isSuccess(exit)) {
    if (shape.includeUsage) {
      const prompts = new Set(requests.map((_, choice) => shape.promptOf(choice)))
      const promptTokens = [...prompts].reduce((sum, prompt) => sum + (toldPromptTokens.get(prompt) ?? shape.promptTokens?.[prompt] ?? 0), 0)
      response.write(sseData({ ...chunkBody(shape, null), choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } }))
    }
    response.end(SSE_DONE)
    return
  }
  const problem = problemOfFailure(exit.cause, { log: shape.log, signal: shape.signal, what: "The model stream failed unexpectedly" })
  if (!response.destroyed) response.end(sseData(problem.body))
}
