/**
 * One contender of the quantisation benchmark, run in its own process so its
 * peak RSS is its own: loads a model folder at a precision, decodes at batch 1
 * and 8, prints one JSON line.
 *
 *   npx tsx tools/bench-quant/contender.ts <folder> <float32|float16|int8|int4> <auto|nbits|nbits-int8|dequantize> <steps> <threads> [decode-only]
 */
import { readFileSync } from "node:fs"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { generateTokens, loadLlama, presentToPast, releaseCaches, zeroCaches, type CacheFeeds, type WeightPrecision } from "@refine-af/model-llama"
import { makeStepFeeds, slideCache } from "@refine-af/models"
import { quantisedBytes } from "@refine-af/tensor"
import { Effect } from "effect"

const [folder, precision, mode, stepsArg, threadsArg, shapeArg] = process.argv.slice(2) as [string, WeightPrecision, "nbits" | "dequantize", string, string, string | undefined]
// `decode-only`: batch 1 through a single decode program, the prompt fed token by token (one baked copy of the weights).
const decodeOnly = shapeArg === "decode-only"
const STEPS = Number(stepsArg)
const PROMPT = 16
const BATCHES = [1, 8]

/** Peak and current resident memory of this process (GiB), from /proc. */
const memory = () => {
  const status = readFileSync("/proc/self/status", "utf8")
  const kib = (key: string) => Number(/\s(\d+) kB/.exec(status.split("\n").find((l) => l.startsWith(key)) ?? "")?.[1] ?? NaN)
  return { peakRssGiB: kib("VmHWM") / 2 ** 20, rssGiB: kib("VmRSS") / 2 ** 20 }
}

const randomIds = (rows: number, length: number, seed: number) =>
  Array.from({ length: rows }, (_, r) => Array.from({ length }, (_, i) => ((r + 1) * 7919 + i * 104729 + seed) % 1000))

const seconds = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const start = performance.now()
    yield* effect
    return (performance.now() - start) / 1000
  })

const main = Effect.gen(function* () {
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: Number(threadsArg), worker: false, float16Weights: false, quantisedMatMul: mode })
  const start = performance.now()
  const loaded = yield* loadLlama(folder, backend, { contextLength: 256, maxBatch: 8, precision: { precision } })
  const loadSeconds = (performance.now() - start) / 1000
  const afterLoad = memory()
  const { runtime } = loaded
  // What one decode step reads: every weight but the embedding table (one row per token).
  let weightBytesPerToken = Object.values(runtime.quantised).reduce((n, w) => n + quantisedBytes(w), 0)
  for (const [name, w] of Object.entries(runtime.weights)) if (name !== "model.embed_tokens.weight" || runtime.config.tieWordEmbeddings) weightBytesPerToken += w.data.byteLength
  const options = { tokenizer: { decode: () => "" }, eosIds: new Set<number>(), contextLength: 256 }
  const result: Record<string, number | null> = {}
  if (decodeOnly) {
    const cache = PROMPT + STEPS + 8
    const shape = { batch: 1, length: 1, cache }
    const exe = yield* runtime.executable(shape, "last-logits", undefined, "slide")
    let caches: CacheFeeds = zeroCaches(runtime.config, 1, cache)
    let slots = new Array<number>(cache).fill(-1)
    const ids = randomIds(1, PROMPT + STEPS, 2)[0]!
    let decodeStart = 0
    for (let position = 0; position < ids.length; position++) {
      if (position === PROMPT) decodeStart = performance.now()
      const step = { tokens: [ids[position]!], positions: [position], cachePositions: slots }
      const out = yield* runtime.run(exe, { ...makeStepFeeds(runtime.config, runtime.frequencies, shape, [step], 0), ...caches })
      yield* runtime.backend.download(out.logits!)
      for (const name of ["logits", "logsumexp", "argmax", "max_logit"]) yield* Effect.ignore(runtime.backend.release(out[name]!))
      yield* releaseCaches(runtime, caches)
      caches = presentToPast(runtime.config, out)
      slots = slideCache(step, cache)
    }
    result.decodeTokensPerSecondBatch1 = STEPS / ((performance.now() - decodeStart) / 1000)
    result.decodeTokensPerSecondBatch8 = null
    console.log(JSON.stringify({ precision, mode, loadSeconds, rssAfterLoadGiB: afterLoad.rssGiB, ...memory(), weightBytesPerToken, ...result }))
    return
  }
  for (const batch of BATCHES) {
    const requests = (maxNewTokens: number) => randomIds(batch, PROMPT, 2).map((promptIds) => ({ promptIds, params: { maxNewTokens, temperature: 0 } }))
    yield* generateTokens(runtime, requests(2), options) // compiles this bucket's prefill and decode programs
    const prefillOnly = yield* seconds(generateTokens(runtime, requests(1), options))
    const full = yield* seconds(generateTokens(runtime, requests(STEPS + 1), options))
    // null when timing noise makes the decode look free (prefill-only slower than prefill + decode).
    result[`decodeTokensPerSecondBatch${batch}`] = full > prefillOnly ? (batch * STEPS) / (full - prefillOnly) : null
  }
  console.log(JSON.stringify({ precision, mode, loadSeconds, rssAfterLoadGiB: afterLoad.rssGiB, ...memory(), weightBytesPerToken, ...result }))
})

Effect.runPromise(Effect.scoped(main)).catch((error) => {
  console.error(error)
  process.exit(1)
})
