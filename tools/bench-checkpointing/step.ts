/**
 * One contender of the gradient-checkpointing benchmark, in its own process
 * so its peak resident memory is its own: load a model folder (shared
 * weights at the given precision), open a LoRA session on every projection,
 * run `steps` training steps (default 2) on `batch` rows of `length` tokens,
 * and report the resident memory after loading, the peak of the whole
 * process (VmHWM) and the time of each step (the first one compiles). Int
 * precisions are cached in `<folder>-quantised` (the next contender reads it).
 *
 *   npx tsx tools/bench-checkpointing/step.ts <folder> <length> <batch> <plain|checkpointed> [float32|int8|int4] [steps]
 *
 * Prints one JSON line.
 */
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { loadLlama } from "@refine-af/model-llama"
import { nllObjective } from "@refine-af/training"
import { Effect } from "effect"
import { processMemory } from "../gpu-check/bench-env.ts"

const [folder, lengthArg, batchArg, mode, precision = "float32", stepsArg = "2"] = process.argv.slice(2) as [string, string, string, "plain" | "checkpointed", "float32" | "int8" | "int4", string]
const length = Number(lengthArg)
const batch = Number(batchArg)

const main = Effect.gen(function* () {
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 2, worker: false, float16Weights: false })
  const start = processMemory()
  const { policy } = yield* loadLlama(folder, backend, { contextLength: length, maxBatch: batch, weightMode: "shared", quantisedBinding: "shared", precision: { precision, cacheRoot: `${folder}-quantised` } })
  const loaded = processMemory()
  const session = yield* policy.session({
    lora: { rank: 8, alpha: 16, dropout: 0, rsLora: false, targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] },
    seed: 1,
    gradientCheckpointing: mode === "checkpointed"
  })
  const rows = Array.from({ length: batch }, (_, r) => ({ tokens: Array.from({ length }, (_, i) => 3 + ((r * 7919 + i * 104729) % 900)), promptLength: Math.floor(length / 4) }))
  const seconds: Array<number> = []
  const losses: Array<number> = []
  for (let i = 0; i < Number(stepsArg); i++) {
    const t = performance.now()
    losses.push((yield* session.step(nllObjective, rows, {}, { lr: 1e-4, clipGradNorm: 1 })).loss)
    seconds.push((performance.now() - t) / 1000)
  }
  return { mode, length, batch, precision, rssStart: start.rss, rssAfterLoad: loaded.rss, peak: processMemory().peak, stepSeconds: seconds, losses }
})

Effect.runPromise(Effect.scoped(main)).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
