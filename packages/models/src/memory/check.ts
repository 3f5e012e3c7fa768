/**
 * The memory estimate made before a model's weights are read: the weights'
 * bytes at the precision they will be held in times a runtime factor, against
 * the memory available now (at load) or the machine's memory (at `validate`).
 * A model that does not fit is refused with what it needs, what there is, and
 * which weight precision would fit — instead of the process being killed by
 * the OS halfway through.
 *
 * @example
 * ```ts
 * import { memoryShortfall } from "@refine-af/models"
 * const problem = memoryShortfall({ what: "model /m", weightBytes: 28e9, availableBytes: 24e9, source: "system memory" })
 * // problem?.message → "model /m needs about 34.0 GiB ... float16 ... 8-bit ... 4-bit"
 * ```
 */
import type { WeightScheme } from "@refine-af/tensor"
import { Schema } from "effect"

/**
 * Resident memory per weight byte (at the precision held) the runtime needs:
 * one shared copy of the weights, activations, KV caches and onnxruntime's
 * own memory (measured by tools/bench-weights: 1.1–1.5× over load + generate
 * + score + train step + reference at float32; see bench-results/weights-*.json).
 * int4 with its fast decode steps keeps more pages resident (1.5–1.8× the
 * weights in PSS, backend-onnx's README), but the extra are clean file pages
 * it does not read again: what a 7B decode step reads, the pre-packed store's
 * blob and the anonymous memory, is ~1.3×.
 */
export const RUNTIME_FACTOR = 1.3

/** The model does not fit in the memory there is. */
export class InsufficientMemoryError extends Schema.TaggedError<InsufficientMemoryError>()("InsufficientMemoryError", {
  path: Schema.String,
  neededBytes: Schema.Number,
  availableBytes: Schema.Number,
  message: Schema.String
}) {}

/** What to check: a model's weight bytes at the precision it will be held in against the memory there is. */
export interface MemoryCheck {
  /** Names the model in the message, e.g. `model-llama: /models/llama-2-7b`. */
  readonly what: string
  /** Bytes of the weights at the precision they will be held in (float32 unless reduced). */
  readonly weightBytes: number
  /** Bytes of the weights at float32 (default `weightBytes`): the base of the precision advice when `narrower` is not given. */
  readonly float32Bytes?: number
  /**
   * Bytes of the weights at each precision narrower than the one asked for,
   * counted as they would be held (e.g. int4 projections beside float32
   * embeddings); without it each is estimated as every weight at that precision.
   */
  readonly narrower?: ReadonlyArray<readonly [WeightScheme, number]>
  readonly availableBytes: number
  /** Where `availableBytes` comes from (said in the message). */
  readonly source: string
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`

/** Bytes per weight at each precision (block-wise 8/4-bit with one float32 scale per 32 weights). */
export const REDUCED_BYTES_PER_WEIGHT: Readonly<Record<"float32" | WeightScheme, number>> = { float32: 4, float16: 2, int8: 1.125, int4: 0.625 }

const LABEL: Readonly<Record<WeightScheme, string>> = { float16: "float16", int8: "8-bit", int4: "4-bit" }

/** The problem, or undefined when the model fits. */
export const memoryShortfall = (check: MemoryCheck): { readonly neededBytes: number; readonly message: string } | undefined => {
  const neededBytes = check.weightBytes * RUNTIME_FACTOR
  if (neededBytes <= check.availableBytes) return undefined
  const weights = (check.float32Bytes ?? check.weightBytes) / 4
  const narrower = (check.narrower ?? (["float16", "int8", "int4"] as const).map((p) => [p, weights * REDUCED_BYTES_PER_WEIGHT[p]] as const)).filter(([, bytes]) => bytes < check.weightBytes)
  const fits = narrower.filter(([, bytes]) => bytes * RUNTIME_FACTOR <= check.availableBytes)
  const options = narrower.map(([name, bytes]) => `${LABEL[name]} ≈ ${gib(bytes * RUNTIME_FACTOR)}`).join(", ")
  const fix = fits.length > 0
    ? `It would fit with ${LABEL[fits[0]![0]]} weights (${options}) if your backend offers that precision; or free memory / use a machine with more.`
    : `It does not fit even with 4-bit weights${options === "" ? "" : ` (${options})`}; use a machine with more memory or a smaller model.`
  return {
    neededBytes,
    message: `${check.what} needs about ${gib(neededBytes)} (${gib(check.weightBytes)} of weights × ${RUNTIME_FACTOR} for activations and the runtime) ` +
      `but ${check.source} is ${gib(check.availableBytes)}. ${fix}`
  }
}

/** Float32 bytes of a weight map (name → shape). */
export const float32Bytes = (shapes: ReadonlyMap<string, ReadonlyArray<number>>): number => {
  let total = 0
  for (const shape of shapes.values()) total += shape.reduce((a, b) => a * b, 1) * 4
  return total
}
