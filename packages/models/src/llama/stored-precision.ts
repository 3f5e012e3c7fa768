/**
 * Which frozen weights a `weights:` precision stores below float32, and the
 * bytes a Llama-family model's weights take at each precision — what the
 * memory estimate before loading counts (model-llama holds the weights so).
 *
 * - `float32`: none (the default).
 * - `float16`: every weight of rank ≥ 2 (embeddings, projections, LM head); norms stay float32.
 * - `int8` / `int4`: the decoder layers' linear projections (q, k, v, o, gate, up, down:
 *   ~95% of a 7B model's bytes), block-wise symmetric. Embeddings, the LM head and
 *   norms stay float32: they are read once per token (embedding: one row) or shape
 *   every logit directly (LM head), and are a small share of the bytes — but not of
 *   every model's: a 262k-token vocabulary (Gemma) keeps half of a 4B model float32.
 *
 * @example
 * ```ts
 * import { llamaWeightBytes, storedBelowFloat32 } from "@refine-af/models"
 * storedBelowFloat32("int4", "model.layers.0.mlp.up_proj.weight", [256, 64]) // true
 * // llamaWeightBytes(config, "int4") → codes and scales of the projections + the rest as float32
 * ```
 */
import { quantisedPartBytes, type WeightScheme } from "@refine-af/tensor"
import type { LlamaConfig } from "../config/llama-config.ts"
import { expectedWeights } from "./weights.ts"

/** Storage precision of a model's frozen weights. */
export type WeightPrecision = "float32" | WeightScheme

/** Default int4 / int8 block size (values per scale along the input axis). */
export const DEFAULT_BLOCK_SIZE = 32

const PROJECTION = /^model\.layers\.\d+\.(self_attn\.(q|k|v|o|qkv)_proj|mlp\.(gate|up|down|gate_up)_proj)\.weight$/

/** True when `precision` stores the weight `name` (of `shape`) below float32. */
export const storedBelowFloat32 = (precision: WeightPrecision, name: string, shape: ReadonlyArray<number>): boolean =>
  precision === "float32" ? false : precision === "float16" ? shape.length >= 2 : PROJECTION.test(name)

/** Bytes of one weight as `precision` stores it: float32 or float16 values, or int codes plus one float32 scale per block. */
export const storedWeightBytes = (precision: WeightPrecision, name: string, shape: ReadonlyArray<number>, blockSize = DEFAULT_BLOCK_SIZE): number => {
  const values = shape.reduce((a, b) => a * b, 1)
  if (precision === "float32" || !storedBelowFloat32(precision, name, shape)) return values * 4
  if (precision === "float16") return values * 2
  const parts = quantisedPartBytes({ scheme: precision, shape, blockSize })
  return parts.codes + parts.scales
}

/** Bytes of a model's weights (the causal-LM checkpoint's: embeddings, layers, norms, LM head unless tied) at `precision`. */
export const llamaWeightBytes = (config: LlamaConfig, precision: WeightPrecision, blockSize = DEFAULT_BLOCK_SIZE): number => {
  let total = 0
  for (const [name, shape] of expectedWeights(config)) total += storedWeightBytes(precision, name, shape, blockSize)
  return total
}
