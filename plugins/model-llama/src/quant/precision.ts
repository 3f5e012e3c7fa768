/**
 * Which frozen weights a `weights:` precision stores below float32.
 *
 * - `float32`: none (the default).
 * - `float16`: every weight of rank ≥ 2 (embeddings, projections, LM head); norms stay float32.
 * - `int8` / `int4`: the decoder layers' linear projections (q, k, v, o, gate, up, down:
 *   ~95% of a 7B model's bytes), block-wise symmetric. Embeddings, the LM head and
 *   norms stay float32: they are read once per token (embedding: one row) or shape
 *   every logit directly (LM head), and are a small share of the bytes.
 *
 * @example
 * ```ts
 * import { storedBelowFloat32 } from "@refine-af/model-llama"
 * storedBelowFloat32("int4", "model.layers.0.mlp.up_proj.weight", [256, 64]) // true
 * ```
 */
import type { WeightScheme } from "@refine-af/tensor"

/** Storage precision of a model's frozen weights. */
export type WeightPrecision = "float32" | WeightScheme

/** Default int4 / int8 block size (values per scale along the input axis). */
export const DEFAULT_BLOCK_SIZE = 32

const PROJECTION = /^model\.layers\.\d+\.(self_attn\.(q|k|v|o|qkv)_proj|mlp\.(gate|up|down|gate_up)_proj)\.weight$/

/** True when `precision` stores the weight `name` (of `shape`) below float32. */
export const storedBelowFloat32 = (precision: WeightPrecision, name: string, shape: ReadonlyArray<number>): boolean =>
  precision === "float32" ? false : precision === "float16" ? shape.length >= 2 : PROJECTION.test(name)
