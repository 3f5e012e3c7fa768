/**
 * Loading a checkpoint's weights at a storage precision, one tensor at a
 * time: each weight is read as float32, checked, and (when the precision
 * stores it below float32) quantised before the next is read, so the float32
 * copy of the whole model never exists (a 7B model at int4 loads in ~4 GB
 * plus one tensor). Int schemes read / write the on-disk cache
 * (`quant-cache.ts`, which holds the weights kept at float32 too) when a
 * cache root is given; float32 does too with `float32Cache` (a float32 copy
 * of the checkpoint for a backend to map).
 */
import { checkWeights, expectedWeights, loadWeights, readFiniteFloat32, type LlamaConfig, type TensorSource } from "@refine-af/models"
import { quantiseWeight, type BlockQuantisedWeight, type HostTensor, type QuantisedWeight } from "@refine-af/tensor"
import { Effect } from "effect"
import { DEFAULT_BLOCK_SIZE, storedBelowFloat32, type WeightPrecision } from "./precision.ts"
import { quantCacheFolder, readQuantCache, writeQuantCache } from "./quant-cache.ts"

/** How to store the frozen weights. */
export interface PrecisionOptions {
  readonly precision: WeightPrecision
  /** int8 / int4 block size (default 32). */
  readonly blockSize?: number
  /** Root folder of the quantised-weight cache; no disk cache when omitted. */
  readonly cacheRoot?: string
  /**
   * At float32, keep a float32 copy of the weights in the cache too (default false): for a backend that maps
   * files, which then reads every frozen weight from that file instead of a copy in memory (and a checkpoint
   * stored at float16 / bfloat16 is converted once, not at every load).
   */
  readonly float32Cache?: boolean
}

/** The loaded weights: float32 ones and those stored below float32, plus what the cache did. */
export interface WeightsAtPrecision {
  readonly weights: Record<string, HostTensor>
  readonly quantised: Record<string, QuantisedWeight>
  /** `hit`: read from the cache; `written`: quantised and cached; `off`: no cache (float32 / float16 / no root); `unwritable`: quantised, cache not written. */
  readonly cache: "hit" | "written" | "off" | "unwritable"
  /** Set when the cache file was found damaged (and so written again, or left unwritable): the warning naming it. */
  readonly cacheDamaged?: string
}

/**
 * Reads the weights `config` needs from `source` at `options.precision`.
 * `modelId` (the folder's content id) names the cache entry.
 *
 * @example
 * ```ts
 * import { loadWeightsAtPrecision } from "@refine-af/model-llama"
 * // const { weights, quantised } = yield* loadWeightsAtPrecision(source, config, path, "llama:tiny#…", { precision: "int4" })
 * ```
 */
export const loadWeightsAtPrecision = Effect.fnUntraced(function* (source: TensorSource, config: LlamaConfig, where: string, modelId: string, options: PrecisionOptions) {
  const { precision } = options
  if (precision === "float32" && (options.float32Cache !== true || options.cacheRoot === undefined)) return { weights: yield* loadWeights(source, config, where), quantised: {}, cache: "off" } satisfies WeightsAtPrecision
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE
  const expected = expectedWeights(config)
  yield* checkWeights(source, expected, where)
  const reduced = new Map([...expected].filter(([name, shape]) => storedBelowFloat32(precision, name, shape)))
  const kept = new Map([...expected].filter(([name]) => !reduced.has(name)))
  const folder = precision !== "float16" && options.cacheRoot !== undefined ? quantCacheFolder(options.cacheRoot, modelId, precision, blockSize) : undefined
  // A hit holds every weight (the float32 ones too): nothing of the checkpoint is read.
  const lookup = folder !== undefined && precision !== "float16" ? yield* readQuantCache(folder, precision, blockSize, reduced, kept) : {}
  const cached = lookup.cached
  if (cached !== undefined) return { weights: cached.weights, quantised: cached.quantised, cache: "hit" } satisfies WeightsAtPrecision
  const damaged = lookup.damaged === undefined ? {} : { cacheDamaged: lookup.damaged }
  const weights: Record<string, HostTensor> = {}
  const quantised: Record<string, QuantisedWeight> = {}
  for (const [name, shape] of expected) {
    const values = yield* readFiniteFloat32(source, name, where)
    if (reduced.has(name) && precision !== "float32") quantised[name] = quantiseWeight(values, shape, precision, blockSize)
    else weights[name] = { dtype: "float32", shape, data: values }
  }
  if (folder === undefined) return { weights, quantised, cache: "off" } satisfies WeightsAtPrecision
  const written = yield* writeQuantCache(folder, modelId, { quantised: quantised as Record<string, BlockQuantisedWeight>, weights }).pipe(Effect.orElseSucceed(() => undefined))
  return written === undefined ? { weights, quantised, cache: "unwritable", ...damaged } satisfies WeightsAtPrecision : { weights: written.weights, quantised: written.quantised, cache: "written", ...damaged } satisfies WeightsAtPrecision
})
