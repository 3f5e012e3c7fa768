import type { GenerationRequest, LanguageModelError } from "@refine-af/core"
import { Effect, Exit, Stream } from "effect"
import { describe, expect, it } from "vitest"
import type { EndpointEvent } from "../src/index.ts"
import { faultHarness, wordLogprob } from "./support/fault-server.ts"

const { start, stop, open, client } = faultHarness({ retries: { base_delay_ms: 20, max_delay_ms: 200 }, breaker: { cooldown_ms: 300 }, timeout_ms: 5000 })

const prompts = (n: number): Array<GenerationRequest> => Array.from({ length: n }, (_, i) => ({ prompt: `p${i}`, params: { maxNewTokens: 8, seed: i } }))
const failure = <A>(exit: Exit.Exit<A, LanguageModelError>) => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  return (reason as { error: LanguageModelError }).error
}

describe("lm-openai against a fault-injecting server", () => {
  it("spreads requests by least outstanding under per-endpoint limits, passing seeds and returning logprobs", async () => {
    const a = await start({ script: () => ({ kind: "ok", delayMs: 30 }) })
    const b = await start({ script: () => ({ kind: "ok", delayMs: 30 }) })
    const lm = open([a.url, b.url], { max_concurrency: 3 })
    const results = await Effect.runPromise(lm.generate(prompts(30)))
    expect(results.map((r) => r.text)).toEqual(prompts(30).map((p) => `re: ${p.prompt}`))
    expect(results[0]!.logprobs).toEqual(["re: ", "p0"].map(wordLogprob))
    expect(results[0]!.finishReason).toBe("eos")
    expect(a.peak()).toBeLessThanOrEqual(3)
    expect(b.peak()).toBeLessThanOrEqual(3)
    expect(a.served.length).toBeGreaterThanOrEqual(10)
    expect(b.served.length).toBeGreaterThanOrEqual(10)
    const seeds = [...a.received, ...b.received].map((r) => [r.body.prompt, r.body.seed])
    expect(new Map(seeds as Array<[string, number]>)).toEqual(new Map(prompts(30).map((p) => [p.prompt as string, p.params.seed!])))
  })

  it("a server killed mid-run: every request completes on the others, none lost or duplicated", async () => {
    const all = [await start({ script: () => ({ kind: "ok", delayMs: 20 }) }), await start({ script: () => ({ kind: "ok", delayMs: 20 }) }), await start({ script: () => ({ kind: "ok", delayMs: 20 }) })]
    const events: Array<EndpointEvent> = []
    const lm = open(all.map((s) => s.url), { max_concurrency: 2 }, events)
    const requests = prompts(60)
    const run = Effect.runPromise(lm.generate(requests))
    while (all[1]!.served.length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
    const servedBeforeKill = all[1]!.served.length
    await all[1]!.kill()
    const results = await run
    expect(servedBeforeKill).toBeGreaterThan(0)
    expect(results.map((r) => r.text)).toEqual(requests.map((p) => `re: ${p.prompt}`))
    // Every prompt answered exactly once by some server (killed ones' half-done requests never reached the client).
    const answered = all.flatMap((s) => s.served).sort()
    expect(new Set(answered).size).toBe(60)
    expect(answered.length).toBeLessThanOrEqual(60 + 2)
    expect(events.some((e) => e.type === "endpoint_down" && e.endpoint === all[1]!.url)).toBe(true)
  })

  it("a restarted server gets traffic again after the breaker's probe", async () => {
    const a = await start()
    let b = await start()
    const port = b.port
    const events: Array<EndpointEvent> = []
    const lm = open([a.url, b.url], { breaker: { failure_threshold: 1, cooldown_ms: 200 } }, events)
    await stop(b)
    await Effect.runPromise(lm.generate(prompts(10)))
    expect(events.map((e) => e.type)).toContain("endpoint_down")
    b = await start({ port })
    await new Promise((resolve) => setTimeout(resolve, 300))
    // The first request after the cooldown probes b; once it succeeds, b takes its share again.
    await Effect.runPromise(lm.generate(prompts(1)))
    await Effect.runPromise(lm.generate(prompts(20)))
    expect(b.served.length).toBeGreaterThanOrEqual(8)
    expect(events.filter((e) => e.endpoint === b.url).map((e) => e.type), JSON.stringify(events)).toEqual(["endpoint_down", "endpoint_up"])
  })

  it("a hanging server times out and the request completes elsewhere; alone, it fails with a clear timeout", async () => {
    const hang = await start({ script: () => ({ kind: "hang" }) })
    const ok = await start()
    const lm = open([hang.url, ok.url], { timeout_ms: 300 })
    const started = Date.now()
    const results = await Effect.runPromise(lm.generate(prompts(4)))
    expect(results.map((r) => r.text)).toEqual(prompts(4).map((p) => `re: ${p.prompt}`))
    expect(Date.now() - started).toBeLessThan(3000)
    client()!.close()
    const alone = open([hang.url], { timeout_ms: 200, retries: { max_attempts: 2, base_delay_ms: 10 } })
    const error = failure(await Effect.runPromiseExit(alone.generate(prompts(1))))
    expect(error.reason).toBe("Unavailable")
    expect(error.message).toMatch(/2 attempt\(s\) failed.*no response within 200 ms/)
  })

  it("every endpoint failing every request: requests fail once all have been down for give_up_ms, naming the server's error", async () => {
    const a = await start({ script: () => ({ kind: "status", status: 500, message: "token id 38242 out of range" }) })
    const b = await start({ script: () => ({ kind: "status", status: 500, message: "token id 38242 out of range" }) })
    const events: Array<EndpointEvent> = []
    // Without the give-up, 8 requests × 6 attempts through one probe per (doubling) cooldown would take minutes.
    const lm = open([a.url, b.url], { breaker: { failure_threshold: 2, cooldown_ms: 200, max_cooldown_ms: 60_000, give_up_ms: 700 } }, events)
    const started = Date.now()
    const error = failure(await Effect.runPromiseExit(lm.generate(prompts(8))))
    const took = Date.now() - started
    expect(error.reason).toBe("Unavailable")
    expect(error.message).toMatch(/every endpoint has answered only with errors \(the server's own answer, not a network failure\): .*answered HTTP 500: token id 38242 out of range/)
    expect(error.fix).toMatch(/give_up_ms/)
    expect(took).toBeGreaterThanOrEqual(700)
    expect(took).toBeLessThan(5000)
    expect(events.filter((e) => e.type === "endpoint_down").map((e) => e.endpoint).sort()).toEqual([a.url, b.url].sort())
    // A restarted endpoint before the give-up is the other path (see "a restarted server ..."): here none came back.
    expect(a.received.length + b.received.length).toBeLessThan(8 * 6)
  })

  it("after giving up, a server back up later serves the next requests (the give-up waits for the probe's answer)", async () => {
    let a = await start()
    const port = a.port
    const lm = open([a.url], { breaker: { failure_threshold: 1, cooldown_ms: 100, give_up_ms: 300 } })
    await stop(a)
    const down = failure(await Effect.runPromiseExit(lm.generate(prompts(2))))
    expect(down.message).toMatch(/every endpoint has been down/)
    a = await start({ port })
    // Idle for longer than give_up_ms: the circuit is still open from before, and the first request probes it.
    await new Promise((resolve) => setTimeout(resolve, 500))
    const results = await Effect.runPromise(lm.generate(prompts(6)))
    expect(results.map((r) => r.text)).toEqual(prompts(6).map((p) => `re: ${p.prompt}`))
  })

  it("429 with Retry-After: the next attempt waits for it", async () => {
    const server = await start({ script: (_, i) => (i === 0 ? { kind: "status", status: 429, retryAfter: "1" } : { kind: "ok" }) })
    const lm = open([server.url])
    const [result] = await Effect.runPromise(lm.generate(prompts(1)))
    expect(result!.text).toBe("re: p0")
    expect(server.received).toHaveLength(2)
    expect(server.received[1]!.at - server.received[0]!.at).toBeGreaterThanOrEqual(990)
  })

  it("5xx and malformed JSON are retried; a 400 is not, and says what the server said", async () => {
    const server = await start({ script: (_, i) => (i === 0 ? { kind: "malformed" } : i === 1 ? { kind: "status", status: 503 } : { kind: "ok" }) })
    const lm = open([server.url])
    expect((await Effect.runPromise(lm.generate(prompts(1))))[0]!.text).toBe("re: p0")
    expect(server.received).toHaveLength(3)

    const broken = await start({ script: () => ({ kind: "malformed" }) })
    const error = failure(await Effect.runPromiseExit(open([broken.url], { retries: { max_attempts: 2, base_delay_ms: 10 } }).generate(prompts(1))))
    expect(error.message).toMatch(/not JSON/)

    const picky = await start({ script: () => ({ kind: "status", status: 400, message: "top_k must be positive" }) })
    const bad = failure(await Effect.runPromiseExit(open([picky.url]).generate(prompts(1))))
    expect(bad.reason).toBe("InvalidRequest")
    expect(bad.message).toContain("top_k must be positive")
    expect(picky.received).toHaveLength(1)
  })

  it("streams; a stream cut before any token is retried, one cut mid-answer fails clearly without replaying tokens", async () => {
    const server = await start({ script: (_, i) => (i === 0 ? { kind: "truncate", afterChunks: 0 } : { kind: "ok" }) })
    const lm = open([server.url])
    const chunks = await Effect.runPromise(Stream.runCollect(lm.stream({ prompt: "a b", params: { maxNewTokens: 8 } })))
    expect([...chunks].map((c) => c.text).join("")).toBe("re: a b")
    expect([...chunks].map((c) => c.logprob)).toEqual(["re: ", "a ", "b"].map(wordLogprob))
    expect(server.received).toHaveLength(2)

    const cut = await start({ script: () => ({ kind: "truncate", afterChunks: 2 }) })
    const seen: Array<string> = []
    const exit = await Effect.runPromiseExit(Stream.runForEach(open([cut.url]).stream({ prompt: [{ role: "user", content: "a b" }], params: { maxNewTokens: 8 } }), (c) => Effect.sync(() => seen.push(c.text))))
    expect(seen).toEqual(["re: ", "a "])
    expect(failure(exit).message).toMatch(/stream broke|without data: \[DONE\]/)
    expect(cut.received).toHaveLength(1)
  })

  it("asks streams for usage; a server that refuses stream_options is asked again without it, once, and then never with it", async () => {
    const stream = (lm: ReturnType<typeof open>, prompt: string) => Effect.runPromise(Stream.runCollect(lm.stream({ prompt, params: { maxNewTokens: 8 } }))).then((chunks) => [...chunks].map((c) => c.text).join(""))
    const strict = await start({ script: (request) => (request.body.stream_options !== undefined ? { kind: "status", status: 400, message: "Unrecognized request argument supplied: stream_options" } : { kind: "ok" }) })
    const lm = open([strict.url])
    expect(await stream(lm, "a b")).toBe("re: a b")
    expect(await stream(lm, "c d")).toBe("re: c d")
    expect(strict.received.map((r) => r.body.stream_options)).toEqual([{ include_usage: true }, undefined, undefined])

    // Another 400 is the request's own fault: no second try without the field.
    const other = await start({ script: () => ({ kind: "status", status: 400, message: "top_k must be positive" }) })
    const exit = await Effect.runPromiseExit(Stream.runCollect(open([other.url]).stream({ prompt: "a", params: { maxNewTokens: 8 } })))
    expect(failure(exit).message).toContain("top_k must be positive")
    expect(other.received).toHaveLength(1)

    // stream_usage: false never sends it.
    const plain = await start()
    expect(await stream(open([plain.url], { stream_usage: false }), "e")).toBe("re: e")
    expect(plain.received.map((r) => r.body.stream_options)).toEqual([undefined])
  })

  it("scores continuations through echo + logprobs, picking the continuation by text offset", async () => {
    const server = await start()
    const lm = open([server.url])
    const [score] = await Effect.runPromise(lm.score([{ prompt: "The cat ", continuation: "sat down" }]))
    expect(score!.logprobs).toEqual(["sat ", "down"].map(wordLogprob))
    expect(score!.total).toBeCloseTo(wordLogprob("sat ") + wordLogprob("down"), 12)
    expect(server.received[0]!.body).toMatchObject({ prompt: "The cat sat down", echo: true, logprobs: 0, max_tokens: 1 })
    const off = failure(await Effect.runPromiseExit(open([server.url], { score: "unsupported" }).score([{ prompt: "a", continuation: "b" }])))
    expect(off.reason).toBe("Unsupported")
  })
})
