/**
 * Merging an adapter into base weights for export: every adapted projection
 * becomes W + scale·B·A, so the merged checkpoint runs anywhere without PEFT.
 */
import type { HostTensor } from "@refine-af/tensor"
import { adapterScale, mergeLoraPair, type LoraAdapter } from "./adapter.ts"

/**
 * Float32 weights (HF names) with `adapter` merged in; untouched tensors are
 * shared, merged ones are new arrays.
 *
 * @example
 * ```ts
 * import { mergeAdapter, type LoraAdapter } from "@refine-af/model-llama"
 * declare const adapter: LoraAdapter
 * // const merged = mergeAdapter(runtime.weights, adapter)
 * ```
 */
export const mergeAdapter = (weights: Readonly<Record<string, HostTensor>>, adapter: LoraAdapter): Record<string, HostTensor> => {
  const merged: Record<string, HostTensor> = { ...weights }
  const scale = adapterScale(adapter)
  for (const pair of adapter.pairs.values()) {
    const name = `${pair.module}.weight`
    const base = weights[name]
    if (!base) throw new RangeError(`mergeAdapter: the base weights have no ${name}; the adapter belongs to another architecture`)
    merged[name] = { dtype: "float32", shape: base.shape, data: mergeLoraPair(base.data as Float32Array, pair, scale) }
  }
  return merged
}
