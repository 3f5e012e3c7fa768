/**
 * Builds the built-in "speaker" model from nothing: generates the corpus,
 * learns the tokenizer, trains a small Llama from scratch on one CPU thread
 * and writes a Hugging Face folder plus the loss curve.
 *
 * Usage: `npx tsx tools/builtin-model/make-builtin-model.ts [--steps N] [--out DIR] [--curve FILE] [--threads T]`
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import * as nodePath from "node:path"
import { parseArgs } from "node:util"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { builtinSeedPath, readSeedFile } from "@refine-af/generator-self-instruct"
import { loadTokenizer, parseLlamaConfig } from "@refine-af/models"
import { Effect } from "effect"
import { makeCorpus } from "./corpus/corpus.ts"
import { LOSS_CURVE, MODEL_FOLDER, MODEL_SHAPE, SEED, TOKENIZER_DOCUMENTS, TOKENIZER_SYMBOLS, TRAIN } from "./settings.ts"
import { tokenizerFiles } from "./tokenizer/tokenizer-files.ts"
import { trainBpe } from "./tokenizer/train-bpe.ts"
import { builtinConfig, initialWeights } from "./train/model-config.ts"
import { packBatch } from "./train/pack.ts"
import { makeFullTrainer } from "./train/trainer.ts"
import { writeModelFolder } from "./write-folder.ts"

/** One point of the loss curve. */
export interface CurvePoint {
  readonly step: number
  readonly loss: number
  readonly gradNorm: number
  readonly lr: number
  readonly tokens: number
  readonly seconds: number
}

/** Runs `steps` training steps from the committed settings; calls `onStep` after each. */
export const trainBuiltin = (options: { readonly steps: number; readonly threads: number; readonly folder: string; readonly onStep?: (point: CurvePoint, save: () => Promise<void>) => Promise<void> }) =>
  Effect.scoped(Effect.gen(function* () {
    const started = Date.now()
    const seeds = yield* readSeedFile(builtinSeedPath)
    const documentAt = makeCorpus(SEED, seeds)
    const bpe = trainBpe(Array.from({ length: TOKENIZER_DOCUMENTS }, (_, i) => { const d = documentAt(i); return d.prompt + d.completion }), TOKENIZER_SYMBOLS)
    const files = tokenizerFiles(bpe, MODEL_SHAPE.maxPositions)
    const hfConfig = builtinConfig(MODEL_SHAPE, files.vocabSize)
    yield* Effect.promise(async () => {
      await mkdir(options.folder, { recursive: true })
      await writeFile(nodePath.join(options.folder, "tokenizer.json"), JSON.stringify(files.tokenizer) + "\n")
      await writeFile(nodePath.join(options.folder, "tokenizer_config.json"), JSON.stringify(files.config, null, 2) + "\n")
    })
    const tokenizer = yield* loadTokenizer(options.folder)
    const config = yield* parseLlamaConfig("builtin", hfConfig)
    const backend = yield* makeOnnxBackend({ provider: "cpu", threads: options.threads, worker: false, float16Weights: false })
    const trainer = yield* makeFullTrainer(backend, config, initialWeights(hfConfig, SEED), { ...TRAIN }, files.eos)
    let index = 0
    const next = () => {
      const d = documentAt(index++)
      return [...tokenizer.encode(d.prompt + d.completion, { addSpecialTokens: false }), files.eos]
    }
    const pending: Array<ReadonlyArray<number>> = []
    const curve: Array<CurvePoint> = []
    const save = () => Effect.runPromise(Effect.flatMap(trainer.weights(), (weights) => writeModelFolder(options.folder, hfConfig, weights)))
    for (let step = 1; step <= options.steps; step++) {
      const rows = packBatch(next, TRAIN.rows, TRAIN.length, pending)
      const result = yield* trainer.step(rows)
      const point = { step, ...result, tokens: rows.reduce((n, r) => n + r.tokens.length, 0), seconds: (Date.now() - started) / 1000 }
      curve.push(point)
      if (options.onStep) yield* Effect.promise(() => options.onStep!(point, save))
    }
    return { curve, documents: index - pending.length, trainer, hfConfig, save }
  }))

const main = async () => {
  const { values } = parseArgs({ options: { steps: { type: "string" }, out: { type: "string" }, curve: { type: "string" }, threads: { type: "string" }, every: { type: "string" } } })
  const steps = Number(values.steps ?? TRAIN.totalSteps)
  const out = nodePath.resolve(values.out ?? fileURLToPath(MODEL_FOLDER))
  const curvePath = nodePath.resolve(values.curve ?? fileURLToPath(LOSS_CURVE))
  const every = Number(values.every ?? 50)
  const staging = `${out}.partial`
  await rm(staging, { recursive: true, force: true })
  const result = await Effect.runPromise(trainBuiltin({
    steps,
    threads: Number(values.threads ?? 1),
    folder: staging,
    onStep: async (point, save) => {
      console.log(JSON.stringify(point))
      if (point.step % every === 0 || point.step === steps) await save()
    }
  }))
  await rm(out, { recursive: true, force: true })
  await rename(staging, out)
  await writeFile(curvePath, JSON.stringify({ seed: SEED, settings: TRAIN, model: MODEL_SHAPE, documents: result.documents, steps: result.curve }, null, 1) + "\n")
  console.log(`wrote ${out} and ${curvePath}`)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === nodePath.resolve(process.argv[1])) await main()
