/**
 * GPT-NeoX `config.json` (Pythia, OpenAssistant reward models) → the geometry
 * the program builder needs. Unknown or inconsistent fields are a
 * `ModelConfigError` naming the field and the fix.
 *
 * @example
 * ```ts
 * import { parseGptNeoXConfig } from "@refine-af/models"
 * const c = parseGptNeoXConfig({ hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 2, intermediate_size: 256, vocab_size: 100 }, "tiny")
 * c.rotaryDims // 4: a quarter (rotary_pct 0.25, the default) of head size 16
 * ```
 */
import { Schema } from "effect"

/** A GPT-NeoX config that cannot be used. */
export class GptNeoXConfigError extends Schema.TaggedError<GptNeoXConfigError>()("GptNeoXConfigError", {
  folder: Schema.String,
  message: Schema.String
}) {}

export interface GptNeoXConfig {
  readonly hiddenSize: number
  readonly numHeads: number
  readonly headDim: number
  readonly numLayers: number
  readonly intermediateSize: number
  readonly vocabSize: number
  /** Leading dims of each head that rotate (floor(headDim · rotary_pct)). */
  readonly rotaryDims: number
  readonly rotaryBase: number
  readonly layerNormEps: number
  /** x + attn(ln1 x) + mlp(ln2 x) when true (Pythia); sequential residuals when false. */
  readonly parallelResidual: boolean
  /** `gelu` (erf) or `gelu_new`/`gelu_fast` (tanh). */
  readonly geluApproximate: "none" | "tanh"
  readonly maxPositions: number
  readonly padTokenId: number | null
  readonly eosTokenId: number | null
}

const int = (raw: Record<string, unknown>, key: string, folder: string, fallback?: number): number => {
  const value = raw[key] ?? fallback
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new GptNeoXConfigError({ folder, message: `config.json of ${folder}: "${key}" must be a positive integer (got ${JSON.stringify(raw[key])}); use the config.json of a GPT-NeoX checkpoint` })
  }
  return value
}

const idOf = (value: unknown): number | null => (typeof value === "number" ? value : Array.isArray(value) && typeof value[0] === "number" ? value[0] : null)

/** Parses a GPT-NeoX config object; throws `GptNeoXConfigError`. */
export const parseGptNeoXConfig = (raw: Record<string, unknown>, folder: string): GptNeoXConfig => {
  const hiddenSize = int(raw, "hidden_size", folder)
  const numHeads = int(raw, "num_attention_heads", folder)
  if (hiddenSize % numHeads !== 0) throw new GptNeoXConfigError({ folder, message: `config.json of ${folder}: hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}` })
  const headDim = hiddenSize / numHeads
  const pct = typeof raw["rotary_pct"] === "number" ? raw["rotary_pct"] : 0.25
  const rotaryDims = Math.floor(headDim * pct)
  if (rotaryDims % 2 !== 0) throw new GptNeoXConfigError({ folder, message: `config.json of ${folder}: rotary_pct ${pct} gives an odd number of rotary dims (${rotaryDims}); expected an even count` })
  const act = raw["hidden_act"] ?? "gelu"
  if (act !== "gelu" && act !== "gelu_new" && act !== "gelu_fast" && act !== "gelu_pytorch_tanh") {
    throw new GptNeoXConfigError({ folder, message: `config.json of ${folder}: hidden_act "${String(act)}" is not supported (gelu, gelu_new, gelu_fast, gelu_pytorch_tanh)` })
  }
  return {
    hiddenSize,
    numHeads,
    headDim,
    numLayers: int(raw, "num_hidden_layers", folder),
    intermediateSize: int(raw, "intermediate_size", folder),
    vocabSize: int(raw, "vocab_size", folder),
    rotaryDims,
    rotaryBase: typeof raw["rotary_emb_base"] === "number" ? raw["rotary_emb_base"] : 10000,
    layerNormEps: typeof raw["layer_norm_eps"] === "number" ? raw["layer_norm_eps"] : 1e-5,
    parallelResidual: raw["use_parallel_residual"] !== false,
    geluApproximate: act === "gelu" ? "none" : "tanh",
    maxPositions: int(raw, "max_position_embeddings", folder, 2048),
    padTokenId: idOf(raw["pad_token_id"]),
    eosTokenId: idOf(raw["eos_token_id"])
  }
}

/** The checkpoint tensors of the GPT-NeoX trunk (`gpt_neox.*`) with their shapes. */
export const gptNeoXTrunkWeights = (c: GptNeoXConfig): Map<string, ReadonlyArray<number>> => {
  const shapes = new Map<string, ReadonlyArray<number>>([["gpt_neox.embed_in.weight", [c.vocabSize, c.hiddenSize]]])
  for (let layer = 0; layer < c.numLayers; layer++) {
    const p = `gpt_neox.layers.${layer}`
    const linear = (name: string, out: number, input: number) => {
      shapes.set(`${p}.${name}.weight`, [out, input])
      shapes.set(`${p}.${name}.bias`, [out])
    }
    for (const norm of ["input_layernorm", "post_attention_layernorm"]) {
      shapes.set(`${p}.${norm}.weight`, [c.hiddenSize])
      shapes.set(`${p}.${norm}.bias`, [c.hiddenSize])
    }
    linear("attention.query_key_value", 3 * c.hiddenSize, c.hiddenSize)
    linear("attention.dense", c.hiddenSize, c.hiddenSize)
    linear("mlp.dense_h_to_4h", c.intermediateSize, c.hiddenSize)
    linear("mlp.dense_4h_to_h", c.hiddenSize, c.intermediateSize)
  }
  shapes.set("gpt_neox.final_layer_norm.weight", [c.hiddenSize])
  shapes.set("gpt_neox.final_layer_norm.bias", [c.hiddenSize])
  return shapes
}
