/**
 * T5 `config.json` (v1.0 ReLU with tied embeddings, v1.1 gated-GELU untied;
 * UniEval's evaluators) → the geometry of the program builder, plus the
 * relative-position buckets T5 adds to attention scores.
 *
 * @example
 * ```ts
 * import { parseT5Config, relativePositionBucket } from "@refine-af/models"
 * const c = parseT5Config({ d_model: 32, d_kv: 8, d_ff: 64, num_layers: 2, num_heads: 4, vocab_size: 64 }, "tiny")
 * relativePositionBucket(-3, true, 32, 128) // 3
 * ```
 */
import { Schema } from "effect"

export class T5ConfigError extends Schema.TaggedError<T5ConfigError>()("T5ConfigError", {
  folder: Schema.String,
  message: Schema.String
}) {}

export interface T5Config {
  readonly dModel: number
  readonly dKv: number
  readonly dFf: number
  readonly numHeads: number
  readonly encoderLayers: number
  readonly decoderLayers: number
  readonly vocabSize: number
  readonly buckets: number
  readonly maxDistance: number
  readonly eps: number
  /** `relu` (T5 v1.0, UniEval) or `gated-gelu` (v1.1: gelu_new(wi_0 x) · wi_1 x). */
  readonly feedForward: "relu" | "gated-gelu"
  /** Tied lm head = shared embedding, applied to hidden · d_model^-0.5. */
  readonly tied: boolean
  readonly decoderStartTokenId: number
  readonly padTokenId: number
  readonly eosTokenId: number
}

const int = (raw: Record<string, unknown>, key: string, folder: string, fallback?: number): number => {
  const value = raw[key] ?? fallback
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new T5ConfigError({ folder, message: `config.json of ${folder}: "${key}" must be a positive integer (got ${JSON.stringify(raw[key])}); use the config.json of a T5 checkpoint` })
  }
  return value
}

/** Parses a T5 config object; throws `T5ConfigError`. */
export const parseT5Config = (raw: Record<string, unknown>, folder: string): T5Config => {
  const proj = raw["feed_forward_proj"] ?? "relu"
  if (proj !== "relu" && proj !== "gated-gelu") throw new T5ConfigError({ folder, message: `config.json of ${folder}: feed_forward_proj "${String(proj)}" is not supported (relu, gated-gelu)` })
  const layers = int(raw, "num_layers", folder)
  return {
    dModel: int(raw, "d_model", folder),
    dKv: int(raw, "d_kv", folder),
    dFf: int(raw, "d_ff", folder),
    numHeads: int(raw, "num_heads", folder),
    encoderLayers: layers,
    decoderLayers: int(raw, "num_decoder_layers", folder, layers),
    vocabSize: int(raw, "vocab_size", folder),
    buckets: int(raw, "relative_attention_num_buckets", folder, 32),
    maxDistance: int(raw, "relative_attention_max_distance", folder, 128),
    eps: typeof raw["layer_norm_epsilon"] === "number" ? raw["layer_norm_epsilon"] : 1e-6,
    feedForward: proj,
    tied: raw["tie_word_embeddings"] !== false,
    decoderStartTokenId: typeof raw["decoder_start_token_id"] === "number" ? raw["decoder_start_token_id"] : 0,
    padTokenId: typeof raw["pad_token_id"] === "number" ? raw["pad_token_id"] : 0,
    eosTokenId: typeof raw["eos_token_id"] === "number" ? raw["eos_token_id"] : 1
  }
}

/**
 * T5's bucket of a relative position (key − query): exact buckets for small
 * distances, logarithmic ones up to `maxDistance`; bidirectional (encoder)
 * buckets split by sign.
 */
export const relativePositionBucket = (relative: number, bidirectional: boolean, buckets: number, maxDistance: number): number => {
  let ret = 0
  let n: number
  let nb = buckets
  if (bidirectional) {
    nb = Math.floor(nb / 2)
    if (relative > 0) ret += nb
    n = Math.abs(relative)
  } else {
    n = -Math.min(relative, 0)
  }
  const maxExact = Math.floor(nb / 2)
  if (n < maxExact) return ret + n
  // torch computes this in float32
  const large = maxExact + Math.trunc(Math.fround(Math.fround(Math.log(Math.fround(n / maxExact))) / Math.fround(Math.log(maxDistance / maxExact)) * (nb - maxExact)))
  return ret + Math.min(large, nb - 1)
}

/** The checkpoint tensors a T5 model of this config needs, with shapes. */
export const t5Weights = (c: T5Config): Map<string, ReadonlyArray<number>> => {
  const inner = c.numHeads * c.dKv
  const shapes = new Map<string, ReadonlyArray<number>>([["shared.weight", [c.vocabSize, c.dModel]]])
  const attention = (p: string) => {
    for (const m of ["q", "k", "v"]) shapes.set(`${p}.${m}.weight`, [inner, c.dModel])
    shapes.set(`${p}.o.weight`, [c.dModel, inner])
  }
  const ff = (p: string) => {
    if (c.feedForward === "relu") shapes.set(`${p}.DenseReluDense.wi.weight`, [c.dFf, c.dModel])
    else for (const w of ["wi_0", "wi_1"]) shapes.set(`${p}.DenseReluDense.${w}.weight`, [c.dFf, c.dModel])
    shapes.set(`${p}.DenseReluDense.wo.weight`, [c.dModel, c.dFf])
    shapes.set(`${p}.layer_norm.weight`, [c.dModel])
  }
  for (const [stack, layers] of [["encoder", c.encoderLayers], ["decoder", c.decoderLayers]] as const) {
    for (let i = 0; i < layers; i++) {
      const p = `${stack}.block.${i}.layer`
      attention(`${p}.0.SelfAttention`)
      if (i === 0) shapes.set(`${p}.0.SelfAttention.relative_attention_bias.weight`, [c.buckets, c.numHeads])
      shapes.set(`${p}.0.layer_norm.weight`, [c.dModel])
      if (stack === "decoder") {
        attention(`${p}.1.EncDecAttention`)
        shapes.set(`${p}.1.layer_norm.weight`, [c.dModel])
        ff(`${p}.2`)
      } else ff(`${p}.1`)
    }
    shapes.set(`${stack}.final_layer_norm.weight`, [c.dModel])
  }
  if (!c.tied) shapes.set("lm_head.weight", [c.vocabSize, c.dModel])
  return shapes
}
