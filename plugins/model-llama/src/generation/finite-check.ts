/**
 * Non-finite model outputs. Weights are checked on load, but finite weights can
 * still overflow float32 inside the network (huge activations, an adapter
 * trained into overflow): the logits then hold NaN or ±Inf, sampling picks
 * token 0 forever (`!!!!…`) and scores come back NaN. A run must stop with the
 * tensor named instead of "completing" with garbage.
 */
import { LanguageModelError } from "@refine-af/core"
import { nonFinite } from "@refine-af/models"

/**
 * Fails when `values` (one row of the output tensor `tensor`) holds NaN or ±Inf.
 *
 * @example
 * ```ts
 * import { checkFinite } from "@refine-af/model-llama"
 * const problem = checkFinite("logits", 0, new Float32Array([0.5, Number.NaN]))
 * problem?.message // "the model's output tensor logits (row 0) holds 1 non-finite value (first: NaN at index 1) …"
 * ```
 */
export const checkFinite = (tensor: string, row: number, values: Float32Array): LanguageModelError | undefined => {
  const bad = nonFinite(values)
  if (bad === undefined) return undefined
  return new LanguageModelError({
    reason: "Internal",
    message: `the model's output tensor ${tensor} (row ${row}) holds ${bad.count} non-finite value${bad.count === 1 ? "" : "s"} ` +
      `(first: ${bad.first} at index ${bad.index}): the weights or the LoRA adapter overflow float32 inside the network, ` +
      "so every output would be garbage",
    fix: "Check the checkpoint and adapter (a badly converted or diverged one: re-download, re-convert, or train the adapter again with a lower learning rate)."
  })
}
