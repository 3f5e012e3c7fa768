import { Effect, Fiber } from "effect"
import { describe, expect, it } from "vitest"
import { generateTokens, makeDecodeScheduler, type LlamaRuntime, type TokenRequest } from "../src/index.ts"
import { runScoped, tinyRuntime } from "./support/runtime.ts"

const ids = (length: number, salt: number) => Array.from({ length }, (_, i) => (i * 37 + salt * 101) % 512)
const tokenizer = { decode: (tokens: ReadonlyArray<number>) => tokens.map((t) => `<${t}>`).join("") }

/** Counts model calls and the batch sizes of decode steps (and of prefills). */
const counting = (runtime: LlamaRuntime) => {
  const stats = { decodeRuns: 0, decodeBatches: [] as Array<number>, prefillBatches: [] as Array<number> }
  const wrapped: LlamaRuntime = {
    ...runtime,
    executable: (shape, head, lora, cacheUpdate) =>
      Effect.map(runtime.executable(shape, head, lora, cacheUpdate), (exe) => {
        if (shape.length === 1) stats.decodeBatches.push(shape.batch)
        else stats.prefillBatches.push(shape.batch)
        return exe
      }),
    run: (exe, feeds) => {
      stats.decodeRuns++
      return runtime.run(exe, feeds)
    }
  }
  return { wrapped, stats }
}

describe("decode scheduler (one queue, one loop across calls)", () => {
  it("concurrent calls join one batch and give exactly the tokens each call gets alone", async () => {
    const requests: Array<TokenRequest> = Array.from({ length: 6 }, (_, i) => ({ promptIds: ids(5 + i * 3, i), params: { maxNewTokens: 12, temperature: 0.9, topK: 40, seed: 100 + i } }))
    const { alone, together, stats } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("mistral", { set: { vocab_size: 512 } })
      const options = { tokenizer, eosIds: new Set<number>(), contextLength: 512, maxBatch: 8 }
      const alone = []
      for (const request of requests) alone.push((yield* generateTokens(runtime, [request], options))[0]!)
      const { wrapped, stats } = counting(runtime)
      const scheduler = makeDecodeScheduler(wrapped, options)
      // Six independent callers, started a little apart as HTTP requests would be.
      const together = yield* Effect.forEach(requests, (request, i) => Effect.delay(scheduler.generate([request]), i * 2), { concurrency: "unbounded" })
      expect(scheduler.pending()).toBe(0)
      return { alone, together: together.map((g) => g[0]!), stats }
    }))
    expect(together.map((g) => g.tokenIds)).toEqual(alone.map((g) => g.tokenIds))
    together.forEach((g, i) => expect(g.logprobs!.map((v) => v.toFixed(3))).toEqual(alone[i]!.logprobs!.map((v) => v.toFixed(3))))
    // One at a time would take 6 × 11 decode steps; sharing a batch takes about one call's worth.
    expect(stats.decodeBatches.filter((b) => b === 1).length).toBeLessThan(30)
    expect(Math.max(...stats.decodeBatches)).toBeGreaterThanOrEqual(4)
    expect(stats.decodeRuns).toBeLessThan(6 * 12)
  })

  it("maxPrefillRows: prefills join a wide decode batch a few rows at a time, with the tokens an uncapped batch gives", async () => {
    const requests: Array<TokenRequest> = Array.from({ length: 12 }, (_, i) => ({ promptIds: ids(4 + i, i), params: { maxNewTokens: 10, temperature: 0 } }))
    const { uncapped, capped, stats } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("mistral", { set: { vocab_size: 512 } })
      const options = { tokenizer, eosIds: new Set<number>(), contextLength: 512, maxBatch: 16 }
      const uncapped = yield* generateTokens(runtime, requests, options)
      const { wrapped, stats } = counting(runtime)
      const capped = yield* generateTokens(wrapped, requests, { ...options, maxPrefillRows: 4 })
      return { uncapped, capped, stats }
    }))
    expect(capped.map((g) => g.tokenIds)).toEqual(uncapped.map((g) => g.tokenIds))
    expect(stats.prefillBatches.length).toBeGreaterThanOrEqual(3)
    expect(Math.max(...stats.prefillBatches)).toBeLessThanOrEqual(4)
    // The decode batch still grows past the prefill cap.
    expect(Math.max(...stats.decodeBatches)).toBe(16)
  })

  it("an interrupted call leaves the batch; later calls, also ones that need a bigger cache, still complete", async () => {
    const result = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("mistral", { set: { vocab_size: 512 } })
      const scheduler = makeDecodeScheduler(runtime, { tokenizer, eosIds: new Set<number>(), contextLength: 512, maxBatch: 4 })
      // The first loop sizes its cache for these two (16-token prompt bucket + 60 → 128 slots).
      const long = yield* Effect.forkChild(scheduler.generate([{ promptIds: ids(6, 1), params: { maxNewTokens: 60, temperature: 0 } }]))
      const short = yield* Effect.forkChild(scheduler.generate([{ promptIds: ids(4, 2), params: { maxNewTokens: 3, temperature: 0 } }]))
      // 48 + 100 slots do not fit: this call waits for the next loop.
      const bigFiber = yield* Effect.forkChild(Effect.delay(scheduler.generate([{ promptIds: ids(40, 3), params: { maxNewTokens: 100, temperature: 0 } }]), 5))
      const shortResult = yield* Fiber.join(short)
      yield* Fiber.interrupt(long)
      const big = yield* Fiber.join(bigFiber)
      return { shortResult, big, pending: scheduler.pending() }
    }))
    expect(result.shortResult[0]!.tokenIds).toHaveLength(3)
    expect(result.big[0]!.tokenIds).toHaveLength(100)
    expect(result.pending).toBe(0)
  })
})
