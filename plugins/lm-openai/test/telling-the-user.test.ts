/**
 * What a person sees when servers are missing, silent or broken: a server
 * that is not there fails in a second (unless breaker.give_up_ms says to
 * wait), one that went away mid-run is still waited for, a silent one is
 * reported while requests wait, error answers are quoted as the server's own,
 * and every endpoint transition is a console warning of the resource.
 */
import type { EventSink, GenerationRequest, LanguageModelError } from "@refine-af/core"
import { Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { openAiLmResource, type EndpointEvent, OpenAiLmOptions } from "../src/index.ts"
import { faultHarness, freePort } from "./support/fault-server.ts"

/** The plugin's defaults, except what `open`'s `extra` says. */
const { start, stop, open } = faultHarness()

const prompts = (n: number): Array<GenerationRequest> => Array.from({ length: n }, (_, i) => ({ prompt: `p${i}`, params: { maxNewTokens: 8, seed: i } }))
const failure = <A>(exit: Exit.Exit<A, LanguageModelError>) => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  return (reason as { error: LanguageModelError }).error
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("lm-openai tells the user what is wrong", () => {
  it("nothing listening from the start: fails within seconds under the default breaker, naming each endpoint, the refusal and the fix", async () => {
    const urls = [`http://127.0.0.1:${await freePort()}/v1`, `http://127.0.0.1:${await freePort()}/v1`]
    const events: Array<EndpointEvent> = []
    const started = Date.now()
    const error = failure(await Effect.runPromiseExit(open(urls, {}, events).generate(prompts(4))))
    expect(Date.now() - started).toBeLessThan(5000)
    expect(error.reason).toBe("Unavailable")
    expect(error.message).toMatch(/^No OpenAI-compatible server could be reached: none has answered since the start, and each failed to connect: /)
    for (const url of urls) expect(error.message).toContain(`${url}/completions could not be reached (ECONNREFUSED: connection refused: nothing listens on that host and port)`)
    expect(error.fix).toMatch(/^Start the server .*check the host and port of each url in endpoints:.*set breaker\.give_up_ms/)
    expect(events.filter((e) => e.type === "endpoint_down").map((e) => e.endpoint).sort()).toEqual([...urls].sort())
  }, 10_000)

  it("with breaker.give_up_ms set, a server not started yet is waited for and serves once it is up", async () => {
    const port = await freePort()
    const lm = open([`http://127.0.0.1:${port}/v1`], { breaker: { failure_threshold: 1, cooldown_ms: 100, max_cooldown_ms: 200, give_up_ms: 5000 } })
    const run = Effect.runPromise(lm.generate(prompts(3)))
    await sleep(500)
    await start({ port })
    expect((await run).map((r) => r.text)).toEqual(prompts(3).map((p) => `re: ${p.prompt}`))
  }, 10_000)

  it("a server that answered and then went away is waited for (no fast failure), and the run goes on when it is back", async () => {
    const first = await start()
    const port = first.port
    const lm = open([first.url], { breaker: { failure_threshold: 1, cooldown_ms: 100, max_cooldown_ms: 200 } })
    await Effect.runPromise(lm.generate(prompts(2)))
    await stop(first)
    const run = Effect.runPromise(lm.generate(prompts(4)))
    await sleep(500)
    await start({ port })
    expect((await run).map((r) => r.text)).toEqual(prompts(4).map((p) => `re: ${p.prompt}`))
  }, 10_000)

  it("an HTTP 500 with a plain-text body: the final error quotes the status and the body, as the server's answer", async () => {
    const body = "CUDA out of memory. Tried to allocate 2.00 GiB\n\n    (GPU 0; 79.35 GiB total capacity)\n"
    const quoted = "answered HTTP 500: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.35 GiB total capacity)"
    const server = await start({ script: () => ({ kind: "body", status: 500, body }) })
    const exhausted = failure(await Effect.runPromiseExit(open([server.url], { retries: { max_attempts: 2, base_delay_ms: 10 } }).generate(prompts(1))))
    expect(exhausted.message).toBe(`The OpenAI-compatible server answered with an error (the server's own answer, not a network failure): 2 attempt(s) failed; last: ${server.url}/completions ${quoted}`)
    expect(exhausted.fix).toMatch(/^The server is running but answers with errors: read its log/)

    const down = failure(await Effect.runPromiseExit(open([server.url], { retries: { base_delay_ms: 10, max_delay_ms: 50 }, breaker: { failure_threshold: 2, cooldown_ms: 100, give_up_ms: 400 } }).generate(prompts(3))))
    expect(down.message).toMatch(/^No OpenAI-compatible endpoint can serve the requests: for \d+ s every endpoint has answered only with errors \(the server's own answer, not a network failure\): /)
    expect(down.message).toContain(quoted)
    expect(down.message).not.toMatch(/down|could not be reached/)
    expect(down.fix).toMatch(/read its log.*breaker\.give_up_ms/)
  }, 10_000)

  it("an HTML page (a proxy's error page, or a 200 that is not the API): named as HTML, the first 200 characters with whitespace collapsed", async () => {
    const page = `<!DOCTYPE html>\n<html>\n  <head><title>502 Bad Gateway</title></head>\n  <body>\n${"    <p>upstream connect error</p>\n".repeat(20)}</body>\n</html>\n`
    const excerpt = page.replace(/\s+/g, " ").trim().slice(0, 200)
    const proxy = await start({ script: () => ({ kind: "body", status: 502, body: page, contentType: "text/html" }) })
    const bad = failure(await Effect.runPromiseExit(open([proxy.url], { retries: { max_attempts: 2, base_delay_ms: 10 } }).generate(prompts(1))))
    expect(bad.message).toContain(`${proxy.url}/completions answered HTTP 502: an HTML page, not the API's JSON: ${excerpt}…`)
    expect(bad.message).toMatch(/not a network failure/)
    expect(bad.fix).toMatch(/ends in \/v1/)

    const website = await start({ script: () => ({ kind: "body", status: 200, body: page, contentType: "text/html" }) })
    const wrong = failure(await Effect.runPromiseExit(open([website.url], { retries: { max_attempts: 2, base_delay_ms: 10 } }).generate(prompts(1))))
    expect(wrong.message).toContain(`${website.url}/completions answered HTTP 200 with a body that is not JSON: an HTML page, not the API's JSON: ${excerpt}…`)
  }, 10_000)

  it("a server that accepts connections but never answers: endpoint_slow once per slow_warning_ms while requests wait, then the timeout", async () => {
    const hang = await start({ script: () => ({ kind: "hang" }) })
    const events: Array<EndpointEvent> = []
    const lm = open([hang.url], { timeout_ms: 1000, slow_warning_ms: 250, retries: { max_attempts: 1 } }, events)
    const error = failure(await Effect.runPromiseExit(lm.generate(prompts(3))))
    expect(error.message).toContain(`${hang.url}/completions gave no response within 1000 ms`)
    const slow = events.filter((e) => e.type === "endpoint_slow")
    // Three requests waiting, one warning per period (at about 250, 500 and 750 ms).
    expect(slow.length).toBeGreaterThanOrEqual(2)
    expect(slow.length).toBeLessThanOrEqual(4)
    expect(slow[0]).toMatchObject({ endpoint: hang.url, waiting: 3, timeoutMs: 1000 })
    const silences = slow.map((e) => (e.type === "endpoint_slow" ? e.silentMs : 0))
    expect(silences[0]).toBeGreaterThanOrEqual(230)
    expect(silences[1]).toBeGreaterThan(silences[0]! + 150)
  }, 10_000)

  it("the resource shows every endpoint event as a console warning when it happens, and still records down/up events", async () => {
    const warnings: Array<string> = []
    const recorded: Array<string> = []
    const events: EventSink = {
      progress: () => Effect.void,
      metric: () => Effect.void,
      warn: (message) => Effect.sync(() => warnings.push(message)),
      emit: (type) => Effect.sync(() => recorded.push(type))
    }
    const first = await start()
    const port = first.port
    const hang = await start({ script: () => ({ kind: "hang" }) })
    const make = (options: typeof OpenAiLmOptions.Encoded) => openAiLmResource.make({ name: "policy", options: Schema.decodeUnknownSync(OpenAiLmOptions)(options), seed: 0, uses: {}, events })
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const lm = yield* make({ model: "tiny", endpoints: [{ url: first.url }], breaker: { failure_threshold: 1, cooldown_ms: 100, max_cooldown_ms: 200 } })
      yield* lm.generate(prompts(1))
      yield* Effect.promise(() => stop(first))
      const run = Effect.runPromise(lm.generate(prompts(2)))
      yield* Effect.promise(() => sleep(300))
      expect(warnings).toEqual([expect.stringMatching(new RegExp(`^${first.url.replace(/[.]/g, "\\.")} is down: .*ECONNREFUSED.*No requests go to it until a probe request succeeds`))])
      yield* Effect.promise(() => start({ port }))
      yield* Effect.promise(() => run)
      expect(warnings[1]).toBe(`${first.url} answers again; requests go to it again.`)

      const silent = yield* make({ model: "tiny", endpoints: [{ url: hang.url }], timeout_ms: 500, slow_warning_ms: 200, retries: { max_attempts: 1 } })
      yield* Effect.exit(silent.generate(prompts(1)))
    })))
    expect(warnings[2]).toMatch(new RegExp(`^${hang.url.replace(/[.]/g, "\\.")} has sent nothing for 0\\.2 s while 1 request\\(s\\) wait on it; still waiting \\(an attempt gives up after timeout_ms = 500 ms\\)\\.$`))
    expect(recorded).toEqual(["endpoint_down", "endpoint_up"])
  }, 10_000)
})
