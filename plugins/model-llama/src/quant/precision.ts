/**
 * Which frozen weights a `weights:` precision stores below float32 (float16:
 * every weight of rank ≥ 2; int8 / int4: the decoder layers' projections),
 * re-exported from `@refine-af/models`, whose memory estimate counts the
 * weights' bytes by the same rule before a model is loaded.
 *
 * @example
 * ```ts
 * import { storedBelowFloat32 } from "@refine-af/model-llama"
 * storedBelowFloat32("int4", "model.layers.0.mlp.up_proj.weight", [256, 64]) // true
 * ```
 */
export { DEFAULT_BLOCK_SIZE, storedBelowFloat32, type WeightPrecision } from "@refine-af/models"
