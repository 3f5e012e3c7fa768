import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, CompletionRequest, CompletionResponse, ErrorBody, ModelList } from "../src/index.ts"

const decode = <S extends Schema.Top>(schema: S) => (value: unknown) => Schema.decodeUnknownSync(schema as never)(value) as S["Type"]

describe("protocol schemas", () => {
  it("decode a vLLM-style completion with legacy logprobs and echo", () => {
    const body = decode(CompletionResponse)({
      id: "cmpl-1", object: "text_completion", created: 1, model: "m",
      choices: [{ index: 0, text: "Hello world", logprobs: { tokens: ["Hello", " world"], token_logprobs: [null, -1.5], top_logprobs: [null, { " world": -1.5 }], text_offset: [0, 5] }, finish_reason: "length", stop_reason: null }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
    })
    expect(body.choices[0]!.logprobs!.token_logprobs).toEqual([null, -1.5])
    expect(body.choices[0]!.logprobs!.text_offset).toEqual([0, 5])
  })

  it("decode chat logprobs.content and stream chunks", () => {
    const body = decode(ChatCompletionResponse)({
      choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, logprobs: { content: [{ token: "Hi", logprob: -0.25, bytes: [72, 105], top_logprobs: [{ token: "Hi", logprob: -0.25, bytes: null }] }] }, finish_reason: "stop" }]
    })
    expect(body.choices[0]!.logprobs!.content![0]!.logprob).toBe(-0.25)
    const chunk = decode(ChatCompletionChunk)({ id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "H" }, finish_reason: null }] })
    expect(chunk.choices[0]!.delta.content).toBe("H")
  })

  it("decode requests and reject wrong types, naming the field", () => {
    expect(decode(CompletionRequest)({ model: "m", prompt: ["a", "b"], max_tokens: 3, logprobs: 2, seed: 5, stop: "\n" }).prompt).toEqual(["a", "b"])
    expect(() => decode(CompletionRequest)({ model: "m", prompt: 3 })).toThrow(/prompt/)
    expect(() => decode(CompletionRequest)({ model: "m", prompt: "x", max_tokens: -1 })).toThrow(/max_tokens/)
    expect(() => decode(CompletionRequest)({ model: "m", prompt: "x", temperature: 9 })).toThrow(/temperature/)
    expect(() => decode(ChatCompletionRequest)({ model: "m", messages: [] })).toThrow(/messages/)
    expect(() => decode(ChatCompletionRequest)({ model: "m", messages: [{ role: "robot", content: "x" }] })).toThrow(/role/)
    expect(decode(ChatCompletionRequest)({ model: "m", messages: [{ role: "user", content: [{ type: "text", text: "a" }] }], logprobs: true, top_logprobs: 0 }).logprobs).toBe(true)
  })

  it("decode models and error bodies", () => {
    expect(decode(ModelList)({ object: "list", data: [{ id: "a" }, { id: "b", max_model_len: 2048 }] }).data.map((m) => m.id)).toEqual(["a", "b"])
    expect(decode(ErrorBody)({ error: { message: "bad", type: "invalid_request_error", param: "n", code: null } }).error.param).toBe("n")
    expect(() => decode(ErrorBody)({ message: "bad" })).toThrow()
  })
})
