/**
 * Speed of bound (shared) against baked frozen weights in ONE process on one
 * backend, interleaved round by round so both see the same machine load:
 * a decode step (KV cache 64) at batch 1 and 8, and a LoRA train step
 * (forward + backward + AdamW, 2×48 tokens). Best of the rounds, in ms.
 *
 *   npx tsx tools/bench-weights/speed.ts <folder> [rounds]
 *
 * Prints one JSON line (bench-weights.ts runs it after the memory contenders).
 */
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { makeLlamaRuntime, initLoraAdapter, makeLoraTrainer, zeroCaches, type LlamaRuntime } from "@refine-af/model-llama"
import { leftPadRows, loadModelFolder, loadWeights, makeStepFeeds, openWeights } from "@refine-af/models"
import { Effect } from "effect"

const [folder, roundsArg] = process.argv.slice(2) as [string, string | undefined]
const ROUNDS = Number(roundsArg ?? 5)

const main = Effect.gen(function* () {
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 2, worker: false, float16Weights: false })
  const model = yield* loadModelFolder(folder)
  const weights = yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeights(source, model.config, folder)))
  const runtimes: Record<string, LlamaRuntime> = {
    shared: makeLlamaRuntime(backend, model.config, weights, { contextLength: 512, padTokenId: 0, weightMode: "shared" }),
    baked: makeLlamaRuntime(backend, model.config, weights, { contextLength: 512, padTokenId: 0, weightMode: "baked" })
  }
  const result: Record<string, Record<string, number>> = { shared: {}, baked: {} }
  const time = (effect: Effect.Effect<unknown, unknown>) => Effect.map(Effect.andThen(Effect.sync(() => performance.now()), (start) => Effect.as(effect, start)), (start) => performance.now() - start)
  for (const batch of [1, 8]) {
    const cache = 64
    const shape = { batch, length: 1, cache }
    const feeds = { ...makeStepFeeds(model.config, runtimes.shared!.frequencies, shape, leftPadRows(Array.from({ length: batch }, (_, r) => [5 + r]), 1, 0, cache), 0), ...zeroCaches(model.config, batch, cache) }
    const steps: Record<string, Effect.Effect<unknown, unknown>> = {}
    for (const [name, runtime] of Object.entries(runtimes)) {
      const exe = yield* runtime.executable(shape, "last-logits")
      steps[name] = runtime.run(exe, feeds)
      yield* steps[name]!
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 === 0 ? ["shared", "baked"] : ["baked", "shared"]) {
        const ms = yield* time(steps[name]!)
        result[name]![`decodeStepMsBatch${batch}`] = Math.min(result[name]![`decodeStepMsBatch${batch}`] ?? Infinity, ms)
      }
    }
  }
  const sequences = [0, 1].map((r) => ({ ids: Array.from({ length: 48 }, (_, i) => 3 + ((r + 1) * 7919 + i * 104729) % 900), promptLength: 24 }))
  const trainers: Record<string, { step: (s: typeof sequences) => Effect.Effect<number, unknown> }> = {}
  for (const [name, runtime] of Object.entries(runtimes)) {
    trainers[name] = yield* makeLoraTrainer(runtime, initLoraAdapter({ r: 8, alpha: 16, dropout: 0, targetModules: ["q_proj", "v_proj"], useRsLora: false, baseModelNameOrPath: null }, model.config, () => 0.25), { batch: 2, length: 48, learningRate: 1e-4 })
    yield* trainers[name]!.step(sequences)
  }
  for (let round = 0; round < Math.max(2, Math.floor(ROUNDS / 2)); round++) {
    for (const name of round % 2 === 0 ? ["shared", "baked"] : ["baked", "shared"]) {
      const ms = yield* time(trainers[name]!.step(sequences))
      result[name]!.trainStepMs = Math.min(result[name]!.trainStepMs ?? Infinity, ms)
    }
  }
  return result
})

Effect.runPromise(Effect.scoped(main)).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
