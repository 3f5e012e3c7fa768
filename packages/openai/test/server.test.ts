import { LanguageModelError, type LanguageModelService } from "@refine-af/core"
import { scriptedLanguageModel } from "@refine-af/testing"
import { Effect, Schema, Stream } from "effect"
import { connect } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { ChatCompletionResponse, CompletionResponse, ErrorBody, ModelList, OpenAiEventStream, startOpenAiServer, type RunningOpenAiServer } from "../src/index.ts"

const echoModel = () => scriptedLanguageModel((request) => ({ text: `re: ${typeof request.prompt === "string" ? request.prompt : request.prompt.map((m) => m.content).join("|")}`, finishReason: "eos" }), { id: "scripted", contextLength: 64 })

/** A model whose generate takes `ms`, counting calls running at once. */
const slowModel = (ms: number) => {
  const base = echoModel()
  const stats = { running: 0, peak: 0, done: 0 }
  const model: LanguageModelService = {
    ...base,
    generate: (requests) =>
      Effect.gen(function* () {
        stats.running++
        stats.peak = Math.max(stats.peak, stats.running)
        yield* Effect.sleep(ms)
        stats.running--
        stats.done++
        return yield* base.generate(requests)
      })
  }
  return { model, stats }
}

let server: RunningOpenAiServer | undefined
afterEach(async () => {
  await server?.close({ graceMs: 1000 })
  server = undefined
})

const post = (path: string, body: unknown) =>
  fetch(`${server!.baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) })

const decode = <S extends Schema.Top>(schema: S, value: unknown) => Schema.decodeUnknownSync(schema as never)(value) as S["Type"]

describe("OpenAI-compatible server", () => {
  it("serves models, health, completions (n, seeds, logprobs, echo) and chat", async () => {
    const model = echoModel()
    server = await startOpenAiServer({ model, modelName: "tiny", port: 0 })
    expect(((await (await fetch(server.baseUrl.replace("/v1", "/health"))).json()) as { status: string }).status).toBe("ok")
    expect(decode(ModelList, await (await fetch(`${server.baseUrl}/models`)).json()).data[0]!.id).toBe("tiny")

    const completion = decode(CompletionResponse, await (await post("/completions", { model: "tiny", prompt: ["a", "b"], n: 2, max_tokens: 5, logprobs: 0, seed: 10, temperature: 0.5 })).json())
    expect(completion.choices.map((c) => c.text)).toEqual(["re: a", "re: a", "re: b", "re: b"])
    expect(completion.choices[0]!.finish_reason).toBe("stop")
    expect(completion.choices[0]!.stop_reason).toBeNull()
    expect(completion.choices[0]!.logprobs!.tokens).toEqual(["token_id:0", "token_id:1"])
    expect(completion.choices[0]!.logprobs!.token_logprobs.every((v) => typeof v === "number" && v < 0)).toBe(true)
    expect(model.requests.map((r) => r.params.seed)).toEqual([10, 11, 10, 11])
    expect(model.requests[0]!.params).toMatchObject({ maxNewTokens: 5, temperature: 0.5 })

    const echoed = decode(CompletionResponse, await (await post("/completions", { model: "tiny", prompt: "x ", echo: true })).json())
    expect(echoed.choices[0]!.text).toBe("x re: x ")

    const chat = decode(ChatCompletionResponse, await (await post("/chat/completions", { model: "tiny", messages: [{ role: "developer", content: "s" }, { role: "user", content: [{ type: "text", text: "hi" }] }], logprobs: true, max_tokens: 3 })).json())
    expect(chat.choices[0]!.message.content).toBe("re: s|hi")
    expect(chat.choices[0]!.logprobs!.content).toHaveLength(2)
    expect(model.requests.at(-1)!.prompt).toEqual([{ role: "system", content: "s" }, { role: "user", content: "hi" }])
  })

  it("streams completions and chat as SSE ending in [DONE], with per-token logprobs and usage", async () => {
    server = await startOpenAiServer({ model: echoModel(), modelName: "tiny", port: 0 })
    const read = async (response: Response) => {
      const stream = new OpenAiEventStream()
      const chunks = stream.push(await response.text())
      stream.end()
      return chunks as Array<{ choices: Array<Record<string, any>>; usage?: { completion_tokens: number } }>
    }
    const completion = await read(await post("/completions", { model: "tiny", prompt: "one two", stream: true, logprobs: 1, max_tokens: 50, stream_options: { include_usage: true } }))
    const tokens = completion.flatMap((c) => c.choices.filter((x) => x.finish_reason === null))
    expect(tokens.map((c) => c.text).join("")).toBe("re: one two")
    expect(tokens.map((c) => c.logprobs.text_offset[0])).toEqual([0, 4, 8])
    expect(completion.flatMap((c) => c.choices).at(-1)!.finish_reason).toBe("stop")
    expect(completion.at(-1)!.usage!.completion_tokens).toBe(3)

    const chat = await read(await post("/chat/completions", { model: "tiny", messages: [{ role: "user", content: "a" }], stream: true, logprobs: true, n: 2, max_tokens: 2 }))
    for (const index of [0, 1]) {
      const mine = chat.flatMap((c) => c.choices).filter((c) => c.index === index)
      expect(mine[0]!.delta.role).toBe("assistant")
      expect(mine.map((c) => c.delta.content ?? "").join("")).toBe("re: a")
      expect(mine.at(-1)!.finish_reason).toBe("length")
      expect(mine[1]!.logprobs.content[0].bytes).toEqual([...new TextEncoder().encode("re: ")])
    }
  })

  it("a failure on the model's side answers 500 and writes its cause to the server's log (the client gets none of it); a refused request logs nothing", async () => {
    const lines: Array<string> = []
    const base = echoModel()
    const model: LanguageModelService = {
      ...base,
      generate: (requests) => requests[0]!.prompt === "bad" ? Effect.fail(new LanguageModelError({ reason: "InvalidRequest", message: "no such thing" })) : Effect.die(new Error("the weights file went away")),
      stream: () => Stream.die(new Error("the stream's weights went away"))
    }
    server = await startOpenAiServer({ model, modelName: "tiny", port: 0, log: (line) => lines.push(line) })
    const plain = await post("/completions", { model: "tiny", prompt: "x" })
    expect(plain.status).toBe(500)
    expect(await plain.text()).not.toContain("weights")
    const streamed = await (await post("/completions", { model: "tiny", prompt: "x", stream: true })).text()
    expect(streamed).toContain("failed unexpectedly")
    expect(streamed).not.toContain("weights")
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/The model failed unexpectedly \(answered 500\):\n[^]*the weights file went away/)
    expect(lines[1]).toMatch(/The model stream failed unexpectedly \(answered 500\):\n[^]*the stream's weights went away/)
    expect((await post("/completions", { model: "tiny", prompt: "bad" })).status).toBe(400)
    // A client that hangs up halfway through its body is no failure of the server's: nothing logged, still up.
    const port = Number(new URL(server.baseUrl).port)
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":")
        setTimeout(() => {
          socket.destroy()
          resolve()
        }, 100)
      })
      socket.on("error", reject)
    })
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(lines).toHaveLength(2)
    expect((await fetch(`${server.baseUrl}/models`)).status).toBe(200)
  })

  it("a chat stream ends as the model's stream says (length where the context ran out) and its usage counts the templated prompt", async () => {
    const base = echoModel()
    const model: LanguageModelService = {
      ...base,
      stream: () => Stream.make({ text: "a", tokenId: 1, logprob: -0.5 }, { text: " b", tokenId: 2, logprob: -0.25 }, { text: "", finish: { reason: "length" as const, promptTokens: 9 } })
    }
    server = await startOpenAiServer({ model, modelName: "tiny", port: 0 })
    const response = await post("/chat/completions", { model: "tiny", messages: [{ role: "user", content: "Hi" }], stream: true, stream_options: { include_usage: true } })
    const chunks = new OpenAiEventStream().push(await response.text()) as Array<{ choices: Array<{ delta: { content?: string }; finish_reason: string | null }>; usage?: { prompt_tokens: number; completion_tokens: number } }>
    const choices = chunks.flatMap((c) => c.choices)
    // The role chunk, two tokens, the finish: the news-only chunk is no token.
    expect(choices.map((c) => c.delta.content ?? null)).toEqual(["", "a", " b", null])
    expect(choices.at(-1)!.finish_reason).toBe("length")
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 2 })
  })

  it("a streamed completion's usage counts each prompt once, as the model's stream counted it (special tokens included)", async () => {
    const base = echoModel()
    const model: LanguageModelService = {
      ...base,
      // The server's own count leaves out special tokens (a BOS): the stream's is the one the model saw.
      countTokens: () => Effect.succeed(1),
      stream: (request) => Stream.make({ text: "x", tokenId: 1, logprob: -1 }, { text: "", finish: { reason: "eos" as const, promptTokens: request.prompt === "a" ? 5 : 7 } })
    }
    server = await startOpenAiServer({ model, modelName: "tiny", port: 0 })
    const response = await post("/completions", { model: "tiny", prompt: ["a", "b"], n: 2, stream: true, stream_options: { include_usage: true } })
    const chunks = new OpenAiEventStream().push(await response.text()) as Array<{ choices: Array<{ finish_reason: string | null }>; usage?: { prompt_tokens: number; completion_tokens: number } }>
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 4 })
    expect(chunks.flatMap((c) => c.choices).filter((c) => c.finish_reason !== null).map((c) => c.finish_reason)).toEqual(["stop", "stop", "stop", "stop"])
  })

  it("a stream the context ends before max_tokens finishes with length, as the non-streamed answer does", async () => {
    server = await startOpenAiServer({ model: scriptedLanguageModel(() => ({ text: "a b" }), { contextLength: 64 }), modelName: "tiny", port: 0 })
    const response = await post("/completions", { model: "tiny", prompt: "w ".repeat(62), stream: true, max_tokens: 50 })
    const stream = new OpenAiEventStream()
    const chunks = stream.push(await response.text()) as Array<{ choices: Array<{ text: string; finish_reason: string | null }> }>
    const choices = chunks.flatMap((c) => c.choices)
    expect(choices.map((c) => c.text).join("")).toBe("a b")
    expect(choices.at(-1)!.finish_reason).toBe("length")
  })

  it("answers bad input with OpenAI error bodies and 4xx, and stays up (fuzzed bodies)", async () => {
    server = await startOpenAiServer({ model: echoModel(), modelName: "tiny", port: 0, maxChoices: 4, maxBodyBytes: 4096 })
    const expectError = async (response: Response, status: number, code?: string) => {
      expect(response.status).toBe(status)
      const body = decode(ErrorBody, await response.json())
      expect(body.error.message.length).toBeGreaterThan(10)
      if (code) expect(body.error.code).toBe(code)
      return body
    }
    await expectError(await post("/completions", "{not json"), 400, "invalid_json")
    await expectError(await post("/completions", "[1,2]"), 400, "invalid_json")
    const wrongType = await expectError(await post("/completions", { model: "tiny", prompt: 5 }), 400)
    expect(wrongType.error.message).toContain("prompt")
    expect(wrongType.error.param).toBe("prompt")
    expect((await expectError(await post("/completions", { model: "tiny", prompt: "x", max_tokens: -1 }), 400)).error.param).toBe("max_tokens")
    expect((await expectError(await post("/chat/completions", { model: "tiny", messages: [{ role: "user", content: "x" }], temperature: "hot" }), 400)).error.param).toBe("temperature")
    for (const prompt of [[1, 2, 3], [[1, 2], [3]]]) {
      const ids = await expectError(await post("/completions", { model: "tiny", prompt }), 400, "unsupported")
      expect(ids.error).toMatchObject({ param: "prompt", message: expect.stringContaining("Token-id prompts are not supported") })
    }
    await expectError(await post("/completions", { model: "nope", prompt: "x" }), 404, "model_not_found")
    expect((await expectError(await post("/completions", { model: "tiny", prompt: "x", n: 5 }), 400)).error.param).toBe("n")
    await expectError(await post("/completions", { model: "tiny", prompt: "w ".repeat(100) }), 400, "context_length_exceeded")
    await expectError(await post("/completions", { model: "tiny", prompt: "x".repeat(10_000) }), 413, "request_too_large")
    await expectError(await post("/completions", { model: "tiny", prompt: "x", echo: true, logprobs: 1 }), 400, "unsupported")
    await expectError(await fetch(`${server.baseUrl}/embeddings`, { method: "POST", body: "{}" }), 404)
    await expectError(await fetch(`${server.baseUrl}/completions`), 405)

    // Fuzz: random mutations of valid bodies; every answer is a 2xx or an OpenAI-style 4xx, never a 5xx or a dropped connection.
    let seed = 12345
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
    const values: Array<unknown> = [null, true, -1, 0, 1.5, 1e9, "", "x", "tiny", [], ["a"], {}, { a: 1 }, [1, 2], "\u0000", NaN]
    const keys = ["model", "prompt", "messages", "n", "max_tokens", "temperature", "top_p", "stop", "seed", "logprobs", "echo", "stream", "top_logprobs", "presence_penalty"]
    const statuses = new Map<number, number>()
    for (let i = 0; i < 300; i++) {
      const chat = random() < 0.5
      const body: Record<string, unknown> = chat ? { model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 2 } : { model: "tiny", prompt: "hi", max_tokens: 2 }
      const edits = 1 + Math.floor(random() * 3)
      for (let e = 0; e < edits; e++) {
        const key = keys[Math.floor(random() * keys.length)]!
        if (random() < 0.2) delete body[key]
        else body[key] = values[Math.floor(random() * values.length)]
      }
      let text = JSON.stringify(body)
      if (random() < 0.1) text = text.slice(0, Math.floor(random() * text.length))
      const response = await post(chat ? "/chat/completions" : "/completions", text)
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
      expect(response.status, text).toBeLessThan(500)
      if (response.status >= 400) decode(ErrorBody, await response.json())
      else await response.text()
    }
    expect(statuses.get(400)).toBeGreaterThan(50)
    expect([...statuses.keys()].some((s) => s === 200)).toBe(true)
    expect((await fetch(server.baseUrl.replace("/v1", "/health"))).status).toBe(200)
  })

  it("runs requests concurrently, queues a bounded number, and answers 429 with Retry-After beyond", async () => {
    const { model, stats } = slowModel(400)
    server = await startOpenAiServer({ model, modelName: "tiny", port: 0, concurrency: 4, queueSize: 2 })
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => post("/completions", { model: "tiny", prompt: `p${i}`, max_tokens: 1 })))
    const codes = responses.map((r) => r.status).sort()
    expect(codes.filter((c) => c === 200)).toHaveLength(6)
    expect(codes.filter((c) => c === 429)).toHaveLength(4)
    const refused = responses.find((r) => r.status === 429)!
    expect(refused.headers.get("retry-after")).toBe("1")
    expect(decode(ErrorBody, await refused.json()).error.type).toBe("rate_limit_error")
    expect(stats.peak).toBe(4)
  })

  it("finishes in-flight requests on close, then refuses new connections", async () => {
    const { model, stats } = slowModel(500)
    server = await startOpenAiServer({ model, modelName: "tiny", port: 0 })
    const inFlight = Promise.all([0, 1, 2].map((i) => post("/completions", { model: "tiny", prompt: `p${i}`, max_tokens: 1 })))
    await new Promise((resolve) => setTimeout(resolve, 150))
    const closed = server.close()
    const answers = await inFlight
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    expect(stats.done).toBe(3)
    await closed
    await expect(fetch(`${server.baseUrl}/models`)).rejects.toThrow()
  })
})
