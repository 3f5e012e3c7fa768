import { startOpenAiServer, type RunningOpenAiServer } from "@refine-af/openai"
import { scriptedLanguageModel } from "@refine-af/testing"
import { Effect, Exit, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { openOpenAiModel, type OpenedOpenAiModel } from "../src/index.ts"

let servers: Array<RunningOpenAiServer> = []
let opened: OpenedOpenAiModel | undefined
afterEach(async () => {
  opened?.client.close()
  await Promise.all(servers.map((s) => s.close({ graceMs: 500 })))
  servers = []
})

const model = () => scriptedLanguageModel((request) => ({ text: `re: ${typeof request.prompt === "string" ? request.prompt : request.prompt.map((m) => `${m.role}:${m.content}`).join("|")}`, finishReason: request.params.maxNewTokens <= 2 ? "length" : "eos" }), { id: "scripted", contextLength: 256 })

describe("lm-openai against refine-af's own server (real HTTP on loopback)", () => {
  it("generates through completions and chat with seeds, logprobs and finish reasons intact", async () => {
    const backing = model()
    const server = await startOpenAiServer({ model: backing, modelName: "tiny", port: 0 })
    servers.push(server)
    opened = openOpenAiModel({ model: "tiny", endpoints: [{ url: server.baseUrl }] }, {})
    const lm = opened.service
    const [plain, chat, cut] = await Effect.runPromise(lm.generate([
      { prompt: "hello there", params: { maxNewTokens: 20, temperature: 0.7, topP: 0.9, stop: ["\n"], seed: 41 } },
      { prompt: [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }], params: { maxNewTokens: 20, seed: 7 } },
      { prompt: "x", params: { maxNewTokens: 2 } }
    ]))
    expect(plain!.text).toBe("re: hello there")
    expect(plain!.finishReason).toBe("eos")
    expect(plain!.tokenIds).toEqual([0, 1, 2])
    expect(plain!.logprobs!.every((v) => v < 0)).toBe(true)
    expect(chat!.text).toBe("re: system:be brief|user:hi")
    expect(cut!.finishReason).toBe("length")
    const seen = new Map(backing.requests.map((r) => [JSON.stringify(r.prompt), r.params]))
    expect(seen.get(JSON.stringify("hello there"))).toEqual({ maxNewTokens: 20, temperature: 0.7, topP: 0.9, stop: ["\n"], seed: 41 })
    expect(seen.get(JSON.stringify([{ role: "system", content: "be brief" }, { role: "user", content: "hi" }]))!.seed).toBe(7)
  })

  it("streams tokens with logprobs over SSE; scoring through echo is Unsupported on this server", async () => {
    const server = await startOpenAiServer({ model: model(), modelName: "tiny", port: 0 })
    servers.push(server)
    opened = openOpenAiModel({ model: "tiny", endpoints: [{ url: server.baseUrl }] }, {})
    const chunks = [...await Effect.runPromise(Stream.runCollect(opened.service.stream({ prompt: "a b c", params: { maxNewTokens: 10 } })))]
    // The tokens, then the server's finish_reason as the stream's last word.
    expect(chunks.map((c) => c.text)).toEqual(["re: ", "a ", "b ", "c", ""])
    expect(chunks.slice(0, -1).every((c) => c.logprob !== undefined && c.logprob < 0)).toBe(true)
    // With the prompt's token count from the usage chunk (stream_options.include_usage), as a plain generation counts it.
    const [plain] = await Effect.runPromise(opened.service.generate([{ prompt: "a b c", params: { maxNewTokens: 10 } }]))
    expect(plain!.promptTokens).toBeGreaterThan(0)
    expect(chunks.at(-1)).toEqual({ text: "", finish: { reason: "stop", promptTokens: plain!.promptTokens } })
    const cut = [...await Effect.runPromise(Stream.runCollect(opened.service.stream({ prompt: "a b c", params: { maxNewTokens: 2 } })))]
    expect(cut.at(-1)!.finish).toEqual({ reason: "length", promptTokens: plain!.promptTokens })
    const exit = await Effect.runPromiseExit(opened.service.score([{ prompt: "a", continuation: " b" }]))
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("Unsupported")
  })

  it("a url without /v1 fails at once, the fix saying that the url must end in /v1", async () => {
    const server = await startOpenAiServer({ model: model(), modelName: "tiny", port: 0 })
    servers.push(server)
    opened = openOpenAiModel({ model: "tiny", endpoints: [{ url: server.baseUrl.replace(/\/v1$/, "") }] }, {})
    const exit = await Effect.runPromiseExit(opened.service.generate([{ prompt: "a", params: { maxNewTokens: 2 } }]))
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("ending in /v1")
  })

  it("fans out across two servers and survives one of them shutting down mid-run", async () => {
    const slow = (id: string) => {
      const base = model()
      return { ...base, generate: (requests: Parameters<typeof base.generate>[0]) => Effect.delay(base.generate(requests), 20), id }
    }
    const a = await startOpenAiServer({ model: slow("a"), modelName: "tiny", port: 0 })
    const b = await startOpenAiServer({ model: slow("b"), modelName: "tiny", port: 0 })
    servers.push(a)
    opened = openOpenAiModel({ model: "tiny", endpoints: [{ url: a.baseUrl }, { url: b.baseUrl }], max_concurrency: 4, retries: { base_delay_ms: 10 }, breaker: { cooldown_ms: 60_000 } }, {})
    const requests = Array.from({ length: 40 }, (_, i) => ({ prompt: `q${i}`, params: { maxNewTokens: 5 } }))
    const run = Effect.runPromise(opened.service.generate(requests))
    while (opened.client.endpoints[1]!.served < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    // Graceful shutdown: b finishes what it holds, then refuses; the rest goes to a.
    await b.close({ graceMs: 5000 })
    const results = await run
    expect(results.map((r) => r.text)).toEqual(requests.map((r) => `re: ${r.prompt}`))
    const served = opened.client.endpoints.map((e) => e.served)
    expect(served[0]! + served[1]!).toBe(40)
    expect(served[1]).toBeGreaterThan(0)
  })
})
