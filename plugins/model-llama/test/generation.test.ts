import { readFileSync } from "node:fs"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { cacheKeeper, COLLECT_AFTER_BYTES, generateTokens, HOST_CACHE_POOL_BYTES, hostCacheCollections, logSumExp, pooledHostCacheBytes, type LlamaRuntime, type TokenRequest } from "../src/index.ts"
import { leftPadRows, loadTokenizer, makeStepFeeds } from "@refine-af/models"
import { runScoped, tinyRuntime } from "./support/runtime.ts"
import { repoRoot } from "./support/tiny-model.ts"

const golden = (preset: string): { prompts: ReadonlyArray<{ ids: ReadonlyArray<number>; greedy: ReadonlyArray<number> }> } =>
  JSON.parse(readFileSync(goldenFile(preset), "utf8"))

/** The golden of a preset: a multimodal one's decoder is its text model's (the same weights, drawn by their text names). */
const goldenFile = (preset: string) => nodePath.join(repoRoot, `tools/golden/llama/golden-${({ gemma3: "gemma3_text", mistral3: "mistral" } as Record<string, string>)[preset] ?? preset}.json`)

describe.each(["llama", "mistral", "qwen2", "qwen3", "olmo2", "olmo3", "smollm3", "granite", "gemma2", "gemma3_text", "phi3", "gemma3", "mistral3"] as const)("%s generation", (preset) => {
  it("greedy KV-cache generation of a batch reproduces the reference's 32 tokens per prompt", async () => {
    const { prompts } = golden(preset)
    const generations = await runScoped(Effect.gen(function* () {
      const { runtime, folder } = yield* tinyRuntime(preset)
      const tokenizer = yield* loadTokenizer(folder)
      const requests = prompts.map((p): TokenRequest => ({ promptIds: p.ids, params: { maxNewTokens: 32, temperature: 0 } }))
      // No end-of-sequence ids: the reference generates exactly 32 tokens.
      return yield* generateTokens(runtime, requests, { tokenizer, eosIds: new Set(), contextLength: 512 })
    }))
    generations.forEach((generation, i) => {
      expect(generation.tokenIds).toEqual(prompts[i]!.greedy)
      expect(generation.finishReason).toBe("length")
    })
  })
})

// Both ways of keeping the cache run here on the CPU: host arrays written in place (the CPU default) and
// sliding backend tensors (what device-resident providers use).
describe.each(["host", "device"] as const)("KV cache kept on the %s", (kvCache) => {
  it("generates exactly the tokens of cache-free generation (mistral: sliding window, GQA 4:1; sampling, mixed lengths, batch compaction)", async () => {
    // A 512-token vocabulary keeps the many compiled buckets of this test small; prompts are token ids.
    const ids = (length: number, salt: number) => Array.from({ length }, (_, i) => (i * 37 + salt * 101) % 512)
    const { cached, uncached } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("mistral", { set: { vocab_size: 512 }, kvCache })
      expect(yield* runtime.kvCache).toBe(kvCache)
      // Five rows (batch bucket 8) with different budgets: rows finish at different steps, so the batch compacts 8 → 4 → 2 → 1.
      // Prompts and budgets cross the 8-token sliding window and a 16-token length bucket.
      const requests: Array<TokenRequest> = [
        { promptIds: ids(5, 1), params: { maxNewTokens: 3, temperature: 1, topK: 40, seed: 1 } },
        { promptIds: ids(14, 2), params: { maxNewTokens: 14, temperature: 0.8, topP: 0.9, seed: 2 } },
        { promptIds: ids(20, 3), params: { maxNewTokens: 10, temperature: 0 } },
        { promptIds: ids(9, 4), params: { maxNewTokens: 4, temperature: 1.2, seed: 3, repetitionPenalty: 1.3 } },
        { promptIds: ids(2, 5), params: { maxNewTokens: 5, temperature: 1, seed: 4 } }
      ]
      const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 512 }
      return {
        cached: yield* generateTokens(runtime, requests, options),
        uncached: yield* generateTokens(runtime, requests, { ...options, useCache: false })
      }
    }))
    expect(cached.map((g) => g.tokenIds!.length)).toEqual([3, 14, 10, 4, 5])
    cached.forEach((generation, i) => {
      expect(generation.tokenIds).toEqual(uncached[i]!.tokenIds)
      generation.logprobs!.forEach((lp, t) => expect(Math.abs(lp - uncached[i]!.logprobs![t]!)).toBeLessThan(1e-4))
    })
  })

  it("phi3's longrope: rows that outgrow the 16-token original context join again, prefilled with the long factors, and get cache-free generation's tokens", async () => {
    const ids = (length: number, salt: number) => Array.from({ length }, (_, i) => (i * 41 + salt * 67) % 512)
    const { cached, uncached } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("phi3", { set: { vocab_size: 512 }, kvCache })
      expect(runtime.frequencies.long?.beyond).toBe(16)
      // Prompts below, at and past the switch; budgets that cross it at different steps, sampled and greedy.
      const requests: Array<TokenRequest> = [
        { promptIds: ids(5, 1), params: { maxNewTokens: 20, temperature: 0.9, seed: 1 } },
        { promptIds: ids(14, 2), params: { maxNewTokens: 12, temperature: 0 } },
        { promptIds: ids(16, 3), params: { maxNewTokens: 6, temperature: 1, topK: 50, seed: 2 } },
        { promptIds: ids(20, 4), params: { maxNewTokens: 8, temperature: 0 } }
      ]
      const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 64 }
      return {
        cached: yield* generateTokens(runtime, requests, options),
        uncached: yield* generateTokens(runtime, requests, { ...options, useCache: false })
      }
    }))
    expect(cached.map((g) => g.tokenIds!.length)).toEqual([20, 12, 6, 8])
    cached.forEach((generation, i) => {
      expect(generation.tokenIds).toEqual(uncached[i]!.tokenIds)
      generation.logprobs!.forEach((lp, t) => expect(Math.abs(lp - uncached[i]!.logprobs![t]!)).toBeLessThan(1e-4))
    })
  })

  it("continuous batching (more requests than max_batch) gives every request the tokens of cache-free generation", async () => {
    const ids = (length: number, salt: number) => Array.from({ length }, (_, i) => (i * 53 + salt * 71) % 512)
    const budgets = [6, 2, 9, 3, 12, 4, 7]
    const { cached, uncached } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("mistral", { set: { vocab_size: 512 }, kvCache })
      const requests: Array<TokenRequest> = budgets.map((maxNewTokens, i) => ({
        promptIds: ids(3 + ((i * 5) % 17), i),
        params: { maxNewTokens, temperature: i % 3 === 0 ? 0 : 1, seed: 10 + i }
      }))
      const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 512 }
      return {
        cached: yield* generateTokens(runtime, requests, { ...options, maxBatch: 4 }),
        uncached: yield* generateTokens(runtime, requests, { ...options, maxBatch: 4, useCache: false })
      }
    }))
    expect(cached.map((g) => g.tokenIds!.length)).toEqual(budgets)
    cached.forEach((generation, i) => expect(generation.tokenIds).toEqual(uncached[i]!.tokenIds))
  })

  it("k samples of one prompt prefill it once (4 of A, 3 of B, one greedy B: three prefilled rows) and each gets cache-free generation's tokens with its own seed", async () => {
    const ids = (length: number, salt: number) => Array.from({ length }, (_, i) => (i * 29 + salt * 83) % 512)
    const a = ids(21, 1)
    const b = ids(9, 2)
    const prompts = [a, b, a, a, b, a, b, b]
    const { cached, uncached, prefillBatches } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("mistral", { set: { vocab_size: 512 }, kvCache })
      // The programs asked for: the prefill's batch is the bucket of its distinct (prompt, greedy) rows.
      const prefillBatches: Array<number> = []
      const spied: LlamaRuntime = { ...runtime, executable: (shape, ...rest) => (shape.length > 1 && prefillBatches.push(shape.batch), runtime.executable(shape, ...rest)) }
      const requests: Array<TokenRequest> = prompts.map((promptIds, i) => ({ promptIds, params: i === 7 ? { maxNewTokens: 6, temperature: 0 } : { maxNewTokens: 4 + (i % 3), temperature: 1, seed: 20 + i } }))
      const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 512 }
      return {
        cached: yield* generateTokens(spied, requests, options),
        uncached: yield* generateTokens(runtime, requests, { ...options, useCache: false }),
        prefillBatches
      }
    }))
    expect(prefillBatches).toEqual([4]) // three distinct rows → batch bucket 4, not 8
    cached.forEach((generation, i) => {
      expect(generation.tokenIds, `request ${i}`).toEqual(uncached[i]!.tokenIds)
      generation.logprobs!.forEach((lp, t) => expect(Math.abs(lp - uncached[i]!.logprobs![t]!)).toBeLessThan(1e-4))
    })
    // Same prompt, different seeds: the samples differ (else one row was copied to all).
    expect(new Set([0, 2, 3, 5].map((i) => cached[i]!.tokenIds!.join(","))).size).toBeGreaterThan(1)
  })
})

describe("host KV caches reused between decode loops", () => {
  it("a later loop on pooled arrays (poisoned with NaN after the first) still gives cache-free generation's tokens and logprobs; the pool stays under its cap", async () => {
    const ids = (length: number, salt: number) => Array.from({ length }, (_, i) => (i * 29 + salt * 83) % 512)
    const { first, later, uncached, pooled, poisoned } = await runScoped(Effect.gen(function* () {
      const { runtime: base } = yield* tinyRuntime("mistral", { set: { vocab_size: 512 }, kvCache: "host" })
      // Every host cache array a step reads, as the runtime is handed it.
      const seen = new Set<Float32Array>()
      let zeroPast: Float32Array | undefined
      const runtime: LlamaRuntime = {
        ...base,
        run: (exe, feeds, options) => {
          for (const [name, feed] of Object.entries(feeds)) if (name.startsWith("past_") && "data" in feed && feed.data instanceof Float32Array) seen.add(feed.data)
          // The first run is the prefill: it reads one zero array as every past.
          zeroPast ??= (feeds["past_key.0"] as { data: Float32Array }).data
          return base.run(exe, feeds, options)
        }
      }
      // Rows finish at different steps (batch 4 → 2 → 1: copies into pooled arrays) and a late request joins.
      const requests: Array<TokenRequest> = [3, 9, 5, 12].map((maxNewTokens, i) => ({ promptIds: ids(4 + 3 * i, i), params: { maxNewTokens, temperature: i % 2 === 0 ? 0 : 1, seed: i } }))
      const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 512, maxBatch: 4 }
      const first = yield* generateTokens(runtime, requests, options)
      const pooled = pooledHostCacheBytes(runtime)
      // The loop has released its caches into the pool: whatever a later loop takes from it must not carry these values.
      let poisoned = 0
      for (const array of seen) {
        // The prefill's shared zeros are never pooled (a test of their own below); the pooled caches are.
        if (array === zeroPast) continue
        array.fill(Number.NaN)
        poisoned++
      }
      const later = yield* generateTokens(runtime, requests, options)
      const uncached = yield* generateTokens(runtime, requests, { ...options, useCache: false })
      return { first, later, uncached, pooled, poisoned }
    }))
    expect(poisoned).toBeGreaterThan(0)
    expect(pooled).toBeGreaterThan(0)
    expect(pooled).toBeLessThanOrEqual(HOST_CACHE_POOL_BYTES)
    for (const run of [first, later]) {
      run.forEach((generation, i) => {
        expect(generation.tokenIds).toEqual(uncached[i]!.tokenIds)
        generation.logprobs!.forEach((lp, t) => expect(Math.abs(lp - uncached[i]!.logprobs![t]!)).toBeLessThan(1e-4))
      })
    }
  })

  it("after every collect_after bytes of downloaded keys and values a loop has V8 collect (the downloads are freed), with the same tokens and logprobs", async () => {
    const { plain, collecting, before, after, freed } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("llama", { kvCache: "host" })
      const requests: Array<TokenRequest> = [0, 1, 2].map((i) => ({ promptIds: Array.from({ length: 5 + 4 * i }, (_, t) => (t * 31 + i * 7) % 256), params: { maxNewTokens: 6, temperature: i === 1 ? 1 : 0, seed: i } }))
      const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 512, maxBatch: 4 }
      const plain = yield* generateTokens(runtime, requests, options)
      const before = hostCacheCollections(runtime)
      // A garbage buffer that only a collection frees: gone after a loop that collects.
      let garbage: Float32Array | undefined = new Float32Array(16 * 2 ** 20).fill(1)
      const witness = new WeakRef(garbage)
      garbage = undefined
      const collecting = yield* generateTokens(runtime, requests, { ...options, collectAfterBytes: 1 })
      return { plain, collecting, before, after: hostCacheCollections(runtime), freed: witness.deref() === undefined }
    }))
    // The tiny model never reaches the default within a loop.
    expect(before).toBe(0)
    expect(COLLECT_AFTER_BYTES).toBeGreaterThanOrEqual(2 ** 20)
    // One collection before each step after the first (the earlier steps' downloads), and one at the loop's end.
    expect(after).toBeGreaterThanOrEqual(6)
    expect(freed).toBe(true)
    collecting.forEach((generation, i) => {
      expect(generation.tokenIds).toEqual(plain[i]!.tokenIds)
      generation.logprobs!.forEach((lp, t) => expect(lp).toBe(plain[i]!.logprobs![t]!))
    })
  })

  it("a prefill reads one shared zero array as every layer's past, never written nor pooled; its keys and values go into other arrays", async () => {
    const { prefillPasts, prefillShape, stepPasts, plain, uncached, again, pooledBefore, pooledAfter } = await runScoped(Effect.gen(function* () {
      const { runtime: base } = yield* tinyRuntime("llama", { kvCache: "host" })
      // The past arrays of each run, in order, and the first run's cache shape.
      const runs: Array<Array<Float32Array>> = []
      let prefillShape: ReadonlyArray<number> = []
      const runtime: LlamaRuntime = {
        ...base,
        run: (exe, feeds, options) => {
          const pasts = Object.entries(feeds).flatMap(([name, feed]) => (name.startsWith("past_") && "data" in feed && feed.data instanceof Float32Array ? [feed] : []))
          if (runs.length === 0) prefillShape = pasts[0]!.shape
          runs.push(pasts.map((feed) => feed.data as Float32Array))
          return base.run(exe, feeds, options)
        }
      }
      const requests: Array<TokenRequest> = [0, 1, 2].map((i) => ({ promptIds: Array.from({ length: 4 + 3 * i }, (_, t) => (t * 37 + i * 11) % 256), params: { maxNewTokens: 5, temperature: i === 2 ? 1 : 0, seed: i } }))
      const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 512, maxBatch: 4 }
      const plain = yield* generateTokens(runtime, requests, options)
      const uncached = yield* generateTokens(base, requests, { ...options, useCache: false })
      // A keeper of the loop's cache size hands out the same zeros; giving them back pools nothing.
      const keeper = cacheKeeper(runtime, "host", prefillShape[2]!)
      const empty = keeper.empty(prefillShape[0]!)
      const pooledBefore = pooledHostCacheBytes(runtime)
      yield* keeper.release(empty)
      const again = Object.values(empty).map((feed) => (feed as { data: Float32Array }).data)
      return { prefillPasts: runs[0]!, prefillShape, stepPasts: runs.slice(1), plain, uncached, again, pooledBefore, pooledAfter: pooledHostCacheBytes(runtime) }
    }))
    const zeros = prefillPasts[0]!
    // Every layer's key and value read the same array, all zeros after the loop, on a plain (non-resizable) buffer.
    expect(prefillPasts.length).toBeGreaterThanOrEqual(4)
    expect(prefillPasts.every((array) => array === zeros)).toBe(true)
    expect(zeros.length).toBe(prefillShape.reduce((a, b) => a * b, 1))
    expect(zeros.findIndex((value) => value !== 0)).toBe(-1)
    expect((zeros.buffer as { resizable?: boolean }).resizable ?? false).toBe(false)
    // The decode steps read the caches the prefill's keys and values were written into: distinct arrays, none the zeros.
    expect(stepPasts.length).toBeGreaterThan(0)
    for (const pasts of stepPasts) {
      expect(pasts.includes(zeros)).toBe(false)
      expect(new Set(pasts).size).toBe(pasts.length)
    }
    expect(again.every((array) => array === zeros)).toBe(true)
    expect(pooledBefore).toBeGreaterThan(0)
    expect(pooledAfter).toBe(pooledBefore)
    plain.forEach((generation, i) => {
      expect(generation.tokenIds).toEqual(uncached[i]!.tokenIds)
      generation.logprobs!.forEach((lp, t) => expect(Math.abs(lp - uncached[i]!.logprobs![t]!)).toBeLessThan(1e-4))
    })
  })

  it("caches past the pool's cap are freed when a loop gives them back (they read as empty); the pooled ones stay whole and come back zeroed", async () => {
    const { arrays, again, pooled } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("llama", { kvCache: "host" })
      const { numKeyValueHeads: kv, headDim, numLayers } = runtime.config
      const cache = 512
      // Rows enough that each cache array holds ≥ 3/8 of the cap, so the 2 · layers of them overflow it.
      const batch = Math.ceil((HOST_CACHE_POOL_BYTES * 3) / 8 / (kv * cache * headDim * 4))
      expect(2 * numLayers * ((HOST_CACHE_POOL_BYTES * 3) / 8)).toBeGreaterThan(HOST_CACHE_POOL_BYTES)
      const keeper = cacheKeeper(runtime, "host", cache)
      const caches = keeper.fresh(batch)
      const arrays = Object.values(caches).map((feed) => (feed as { data: Float32Array }).data)
      for (const array of arrays) array.fill(7)
      yield* keeper.release(caches)
      // Given back twice (a loop's error path): nothing changes.
      yield* keeper.release(caches)
      const pooled = pooledHostCacheBytes(runtime)
      const again = Object.values(keeper.fresh(batch)).map((feed) => (feed as { data: Float32Array }).data)
      return { arrays, again, pooled }
    }))
    const whole = arrays.filter((array) => array.byteLength > 0)
    const freed = arrays.filter((array) => array.byteLength === 0)
    expect(freed.length).toBeGreaterThan(0)
    expect(whole.length).toBeGreaterThan(0)
    expect(whole.reduce((n, array) => n + array.byteLength, 0)).toBe(pooled)
    expect(pooled).toBeLessThanOrEqual(HOST_CACHE_POOL_BYTES)
    for (const array of freed) expect(array.length).toBe(0)
    // The next loop takes the pooled arrays back, zeroed, and new ones for the rest.
    expect(whole.every((array) => again.includes(array))).toBe(true)
    expect(again.map((array) => array.length)).toEqual(arrays.map(() => arrays[0]!.length))
    expect(again.map((array) => array.findIndex((value) => value !== 0))).toEqual(again.map(() => -1))
  }, 30_000)
})

describe("generation logprobs", () => {
  it("the model-side log-sum-exp gives the float64 log-softmax of the cache-free logits (greedy and sampled)", async () => {
    const prompts = [[1, 15, 27, 3], [1, 9]]
    const { generations, reference } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("llama")
      const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 128 }
      const generations = yield* generateTokens(runtime, [
        { promptIds: prompts[0]!, params: { maxNewTokens: 6, temperature: 0 } },
        { promptIds: prompts[1]!, params: { maxNewTokens: 6, temperature: 1.3, seed: 7 } }
      ], options)
      const reference: Array<Array<number>> = []
      for (const [i, generation] of generations.entries()) {
        const ids = [...prompts[i]!, ...generation.tokenIds!]
        const shape = { batch: 1, length: ids.length, cache: 0 }
        const exe = yield* runtime.executable(shape, "all-logits")
        const out = yield* runtime.run(exe, makeStepFeeds(runtime.config, runtime.frequencies, shape, leftPadRows([ids], ids.length, 0, 0), 0))
        const logits = Float64Array.from((yield* runtime.backend.download(out.logits!)).data as Float32Array)
        const vocab = runtime.config.vocabSize
        reference.push(generation.tokenIds!.map((id, k) => {
          const row = logits.subarray((prompts[i]!.length + k - 1) * vocab, (prompts[i]!.length + k) * vocab)
          return row[id]! - logSumExp(row)
        }))
      }
      return { generations, reference }
    }))
    generations.forEach((generation, i) => {
      expect(generation.logprobs!.length).toBe(6)
      generation.logprobs!.forEach((lp, k) => expect(Math.abs(lp - reference[i]![k]!)).toBeLessThan(1e-4))
    })
  })

  it("greedy steps fetch only the model's argmax, max logit and log-sum-exp (no logits), and pick the host argmax of the cache-free logits", async () => {
    const prompts = [[1, 15, 27, 3], [1, 9], [4, 4, 4, 4, 4, 4, 4]]
    const { asked, mixedAsked, generations, reference } = await runScoped(Effect.gen(function* () {
      const { runtime } = yield* tinyRuntime("llama")
      const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 128 }
      const asked: Array<ReadonlyArray<string>> = []
      const spy: typeof runtime = { ...runtime, run: (exe, feeds, o) => (asked.push(o?.outputs ?? exe.outputs.map((x) => x.name)), runtime.run(exe, feeds, o)) }
      const generations = yield* generateTokens(spy, prompts.map((promptIds) => ({ promptIds, params: { maxNewTokens: 8, temperature: 0 } })), options)
      const greedyAsked = asked.splice(0)
      yield* generateTokens(spy, [
        { promptIds: prompts[0]!, params: { maxNewTokens: 3, temperature: 0 } },
        { promptIds: prompts[1]!, params: { maxNewTokens: 3, temperature: 0.8, seed: 3 } }
      ], options)
      const reference: Array<Array<{ id: number; logprob: number }>> = []
      for (const [i, generation] of generations.entries()) {
        const ids = [...prompts[i]!, ...generation.tokenIds!]
        const shape = { batch: 1, length: ids.length, cache: 0 }
        const exe = yield* runtime.executable(shape, "all-logits")
        const out = yield* runtime.run(exe, makeStepFeeds(runtime.config, runtime.frequencies, shape, leftPadRows([ids], ids.length, 0, 0), 0))
        const logits = (yield* runtime.backend.download(out.logits!)).data as Float32Array
        const vocab = runtime.config.vocabSize
        reference.push(generation.tokenIds!.map((_, k) => {
          const row = logits.subarray((prompts[i]!.length + k - 1) * vocab, (prompts[i]!.length + k) * vocab)
          let first = 0
          for (let v = 1; v < vocab; v++) if (row[v]! > row[first]!) first = v
          return { id: first, logprob: row[first]! - logSumExp(row) }
        }))
      }
      return { asked: greedyAsked, mixedAsked: asked, generations, reference }
    }))
    expect(asked.length).toBeGreaterThanOrEqual(8)
    for (const outputs of asked) {
      expect(outputs).not.toContain("logits")
      expect(outputs).toEqual(expect.arrayContaining(["argmax", "max_logit", "logsumexp"]))
    }
    expect(mixedAsked.length).toBeGreaterThanOrEqual(3)
    for (const outputs of mixedAsked) {
      expect(outputs).toEqual(expect.arrayContaining(["logits", "logsumexp"]))
      expect(outputs).not.toContain("argmax")
    }
    generations.forEach((generation, i) => {
      expect(generation.tokenIds).toEqual(reference[i]!.map((r) => r.id))
      generation.logprobs!.forEach((lp, k) => expect(Math.abs(lp - reference[i]![k]!.logprob)).toBeLessThan(1e-4))
    })
  })
})
